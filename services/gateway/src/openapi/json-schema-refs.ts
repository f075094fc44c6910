/** A JSON Schema object, as embedded in an OpenAPI document. */
export type JsonSchemaObject = Record<string, unknown>;

/**
 * Moves a standalone JSON Schema into the OpenAPI document at `pointer`
 * (`#/components/schemas/X`): document-local `$ref`s (`#/$defs/a`) are rebased onto the pointer so
 * that they still resolve, and the `$schema` and `$id` keywords, which belong to a document's root,
 * are dropped.
 */
export function embedSchema(schema: JsonSchemaObject, pointer: string): JsonSchemaObject {
  return rebaseRefs(withoutRootKeywords(schema), (ref) =>
    ref === "#" ? pointer : ref.startsWith("#/") ? `${pointer}${ref.slice(1)}` : ref,
  );
}

/** `schema` without `$schema` and `$id`, which only a document's root may carry. */
export function withoutRootKeywords(schema: JsonSchemaObject): JsonSchemaObject {
  const rest = { ...schema };
  delete rest["$schema"];
  delete rest["$id"];
  return rest;
}

/** A copy of `value` with every `$ref` string passed through `rewrite`. */
export function rebaseRefs<T>(value: T, rewrite: (ref: string) => string): T {
  if (Array.isArray(value)) return value.map((v: unknown) => rebaseRefs(v, rewrite)) as T;
  if (typeof value !== "object" || value === null) return value;
  const result: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    result[key] = key === "$ref" && typeof v === "string" ? rewrite(v) : rebaseRefs(v, rewrite);
  }
  return result as T;
}
