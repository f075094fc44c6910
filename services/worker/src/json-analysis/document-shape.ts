/** JSON value types as the analysis names them; whole numbers are `integer`. */
export const JsonType = {
  String: "string",
  Integer: "integer",
  Number: "number",
  Boolean: "boolean",
  Null: "null",
  Object: "object",
  Array: "array",
} as const;
export type JsonType = (typeof JsonType)[keyof typeof JsonType];

/** The structure of one JSON document. */
export interface DocumentShape {
  /** The document's own type; only an `object` can be a table row. */
  kind: JsonType;
  /**
   * Every field path and its type(s), e.g. `{ "address.city": "string", "items[].qty": "integer" }`.
   * Array elements are `path[]`; a path seen with several types lists them: `integer|null`.
   */
  fields: Record<string, string>;
  /**
   * Nesting depth: 0 for a scalar, 1 for a flat object, one more per nested object or array.
   * Fields more than {@link maxListedDepth} levels down count here but are not listed.
   */
  depth: number;
  /** Top-level fields of an object document and their types. */
  topLevel: Map<string, JsonType>;
  /** Paths of objects nested in the document (not counting objects inside arrays). */
  nestedObjects: string[];
  /** Paths of arrays that hold objects. */
  objectArrays: string[];
  /** Paths of arrays that hold arrays. */
  arrayArrays: string[];
  /** Paths of arrays that hold only scalars (or nothing). */
  scalarArrays: string[];
}

export function jsonTypeOf(value: unknown): JsonType {
  if (value === null) return JsonType.Null;
  if (Array.isArray(value)) return JsonType.Array;
  switch (typeof value) {
    case "string":
      return JsonType.String;
    case "number":
      return Number.isInteger(value) ? JsonType.Integer : JsonType.Number;
    case "boolean":
      return JsonType.Boolean;
    default:
      return JsonType.Object;
  }
}

/** Fields deeper than this are not listed (their depth still counts): keeps huge paths out of results. */
export const maxListedDepth = 32;

interface Visit {
  value: unknown;
  path: string;
  /** Containers around the value: 0 for the document itself. */
  level: number;
  /** Whether the value is an element of an array. */
  inArray: boolean;
}

/**
 * Describes a document's structure. Iterative, so a deeply nested document cannot exhaust the
 * call stack.
 */
export function describeDocument(document: unknown): DocumentShape {
  const kind = jsonTypeOf(document);
  const fieldTypes = new Map<string, Set<JsonType>>();
  const shape: DocumentShape = {
    kind,
    // No prototype: a field named `__proto__` is a key like any other, not the prototype's setter.
    fields: Object.create(null) as Record<string, string>,
    depth: 0,
    topLevel: new Map(),
    nestedObjects: [],
    objectArrays: [],
    arrayArrays: [],
    scalarArrays: [],
  };
  const record = (path: string, type: JsonType) => {
    const types = fieldTypes.get(path) ?? new Set<JsonType>();
    types.add(type);
    fieldTypes.set(path, types);
  };

  const pending: Visit[] = [{ value: document, path: "", level: 0, inArray: false }];
  for (let visit = pending.pop(); visit !== undefined; visit = pending.pop()) {
    const { value, path, level } = visit;
    const type = jsonTypeOf(value);
    if (type !== JsonType.Object && type !== JsonType.Array) continue;
    shape.depth = Math.max(shape.depth, level + 1);
    if (level >= maxListedDepth) {
      for (const child of Object.values(value as object)) {
        pending.push({ value: child as unknown, path, level: level + 1, inArray: false });
      }
      continue;
    }
    if (Array.isArray(value)) {
      const elementPath = `${path}[]`;
      const elementTypes = new Set(value.map(jsonTypeOf));
      const where = path === "" ? "(root)" : path;
      if (elementTypes.has(JsonType.Object)) shape.objectArrays.push(where);
      else if (elementTypes.has(JsonType.Array)) shape.arrayArrays.push(where);
      else shape.scalarArrays.push(where);
      for (const element of value) {
        record(elementPath, jsonTypeOf(element));
        pending.push({ value: element, path: elementPath, level: level + 1, inArray: true });
      }
      continue;
    }
    if (level > 0 && !visit.inArray) shape.nestedObjects.push(path);
    for (const [key, child] of Object.entries(value as Record<string, unknown>)) {
      const childPath = path === "" ? key : `${path}.${key}`;
      const childType = jsonTypeOf(child);
      record(childPath, childType);
      if (level === 0) shape.topLevel.set(key, childType);
      pending.push({ value: child, path: childPath, level: level + 1, inArray: false });
    }
  }

  const paths = [...fieldTypes.keys()].sort();
  for (const path of paths) shape.fields[path] = [...(fieldTypes.get(path) ?? [])].sort().join("|");
  for (const list of [
    shape.nestedObjects,
    shape.objectArrays,
    shape.arrayArrays,
    shape.scalarArrays,
  ]) {
    list.sort();
  }
  return shape;
}
