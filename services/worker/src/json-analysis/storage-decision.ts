import { JsonType, describeDocument } from "./document-shape.ts";
import type { DocumentShape } from "./document-shape.ts";

/** Where a document is best stored: a relational table row, or a JSONB column. */
export const Storage = { Sql: "sql", Jsonb: "jsonb" } as const;
export type Storage = (typeof Storage)[keyof typeof Storage];

/** What the documents have in common, against which each one is judged. */
export interface CollectionProfile {
  /** Documents that are objects. */
  objectDocuments: number;
  /** Top-level fields present in more than half of the object documents: the would-be columns. */
  commonFields: ReadonlySet<string>;
  /** Top-level fields whose non-null values differ in type across documents, with the types. */
  mixedTypes: ReadonlyMap<string, readonly string[]>;
}

export interface StorageDecision {
  storage: Storage;
  /** Why, in words. */
  reason: string;
}

/** The analysis of one document, as the `json.analyze` result lists it. */
export interface DocumentAnalysis extends StorageDecision {
  index: number;
  fields: Record<string, string>;
  depth: number;
}

export interface AnalysisResult {
  documents: DocumentAnalysis[];
  summary: { sql: number; jsonb: number };
}

/** A field counts as heterogeneous or missing beyond this share of the fields. */
const tolerance = 0.5;

export function profileCollection(shapes: readonly DocumentShape[]): CollectionProfile {
  const objects = shapes.filter((s) => s.kind === JsonType.Object);
  const presence = new Map<string, number>();
  const types = new Map<string, Set<string>>();
  for (const shape of objects) {
    for (const [key, type] of shape.topLevel) {
      presence.set(key, (presence.get(key) ?? 0) + 1);
      if (type === JsonType.Null) continue;
      // Whole and fractional numbers share a numeric column.
      const columnType = type === JsonType.Integer ? JsonType.Number : type;
      const seen = types.get(key) ?? new Set<string>();
      seen.add(columnType);
      types.set(key, seen);
    }
  }
  const commonFields = new Set(
    [...presence].filter(([, count]) => count > objects.length / 2).map(([key]) => key),
  );
  const mixedTypes = new Map(
    [...types]
      .filter(([, seen]) => seen.size > 1)
      .map(([key, seen]) => [key, [...seen].sort()] as const),
  );
  return { objectDocuments: objects.length, commonFields, mixedTypes };
}

/**
 * `sql` for a flat object of scalar fields that matches the other documents' fields and types;
 * `jsonb` for anything nested (objects, arrays), not an object, sparse or heterogeneous.
 */
export function decideStorage(shape: DocumentShape, profile: CollectionProfile): StorageDecision {
  const reasons = jsonbReasons(shape, profile);
  if (reasons.length > 0) return { storage: Storage.Jsonb, reason: reasons.join("; ") };
  const keys = [...shape.topLevel.keys()];
  const consistent = profile.objectDocuments > 1 ? ", consistent with the other documents" : "";
  return {
    storage: Storage.Sql,
    reason: `flat row of ${plural(keys.length, "scalar field")} (${list(keys)})${consistent}`,
  };
}

function jsonbReasons(shape: DocumentShape, profile: CollectionProfile): string[] {
  if (shape.kind !== JsonType.Object) {
    return [
      `the document is ${shape.kind === JsonType.Array ? "an array" : `a ${shape.kind}`}, not an object with fields`,
    ];
  }
  if (shape.topLevel.size === 0) return ["the object has no fields"];
  const reasons: string[] = [];
  if (shape.objectArrays.length > 0)
    reasons.push(`arrays of objects at ${list(shape.objectArrays)}`);
  if (shape.arrayArrays.length > 0) reasons.push(`arrays of arrays at ${list(shape.arrayArrays)}`);
  if (shape.nestedObjects.length > 0) {
    reasons.push(`nested objects at ${list(shape.nestedObjects)}`);
  }
  if (shape.scalarArrays.length > 0) reasons.push(`array values at ${list(shape.scalarArrays)}`);

  const keys = [...shape.topLevel.keys()];
  const mixed = keys.filter((k) => profile.mixedTypes.has(k));
  if (mixed.length > 0) {
    const described = mixed.map((k) => `${k} (${(profile.mixedTypes.get(k) ?? []).join(", ")})`);
    reasons.push(`fields whose type varies across the documents: ${list(described)}`);
  }
  const rare = keys.filter((k) => !profile.commonFields.has(k));
  if (rare.length / keys.length > tolerance) {
    reasons.push(
      `heterogeneous keys: ${rare.length} of its ${plural(keys.length, "field")} (${list(rare)}) appear in at most half of the documents`,
    );
  }
  const missing = [...profile.commonFields].filter((k) => !shape.topLevel.has(k));
  if (profile.commonFields.size > 0 && missing.length / profile.commonFields.size > tolerance) {
    const present = profile.commonFields.size - missing.length;
    reasons.push(
      `sparse: has ${present} of the ${plural(profile.commonFields.size, "common field")} (lacks ${list(missing)})`,
    );
  }
  return reasons;
}

/** Analyses documents already described, in order. */
export function analyzeShapes(shapes: readonly DocumentShape[]): AnalysisResult {
  const profile = profileCollection(shapes);
  const documents = shapes.map((shape, index) => ({
    index,
    ...decideStorage(shape, profile),
    fields: shape.fields,
    depth: shape.depth,
  }));
  const sql = documents.filter((d) => d.storage === Storage.Sql).length;
  return { documents, summary: { sql, jsonb: documents.length - sql } };
}

/** Describes and analyses documents in one go. */
export function analyzeDocuments(documents: readonly unknown[]): AnalysisResult {
  return analyzeShapes(documents.map(describeDocument));
}

function list(items: readonly string[], shown = 3): string {
  const head = items.slice(0, shown).join(", ");
  return items.length > shown ? `${head} and ${items.length - shown} more` : head;
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? "" : "s"}`;
}
