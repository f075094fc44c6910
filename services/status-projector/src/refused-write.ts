/** A document that cannot be stored as it is (for example one over the size limit). */
export interface RefusedWrite {
  collection: string;
  id: string;
  message: string;
  /** The error's name (`MongoBulkWriteError`, `BSONError`, ...), when an error refused it. */
  error?: string | undefined;
  code?: number | string | undefined;
}

/** The refusal of document `id` of `collection` by `err`. */
export function refusal(collection: string, id: string, err: unknown): RefusedWrite {
  if (!(err instanceof Error)) return { collection, id, message: String(err) };
  const { code } = err as { code?: unknown };
  return {
    collection,
    id,
    message: err.message,
    error: err.name,
    code: typeof code === "number" || typeof code === "string" ? code : undefined,
  };
}
