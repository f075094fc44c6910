import type { AnyBulkWriteOperation, Collection, Document } from "mongodb";

import { isTransientStoreError } from "./store-errors.ts";

/** A document that cannot be stored as it is (for example one over the size limit). */
export interface RefusedWrite {
  collection: string;
  id: string;
  message: string;
  /** The error's name (`MongoBulkWriteError`, `BSONError`, ...), when an error refused it. */
  error?: string | undefined;
  code?: number | string | undefined;
}

/**
 * Upserts `docs` by `_id` with unordered `bulkWrite`s of at most {@link maxReplacementsPerCommand}
 * documents. When one fails for a reason other than
 * a transient one (see {@link isTransientStoreError}), every document is written again on its own
 * to learn which fail (FerretDB stops an unordered bulk write at the first refusal and reports the
 * wrong index; the driver refuses to encode a whole batch for one bad document); those are returned
 * and the rest stored. Transient failures (server unreachable, timeouts, unlabelled server errors)
 * are thrown, for the caller to retry.
 */
export async function bulkReplace<T extends Document & { _id: string }>(
  collection: Collection<T>,
  docs: readonly T[],
): Promise<RefusedWrite[]> {
  const refused: RefusedWrite[] = [];
  for (let start = 0; start < docs.length; start += maxReplacementsPerCommand) {
    const chunk = docs.slice(start, start + maxReplacementsPerCommand);
    refused.push(...(await replaceChunk(collection, chunk)));
  }
  return refused;
}

/**
 * FerretDB 1.24 (SQLite) never answers an unordered bulk write of 100 or more replacements of
 * existing documents, and hangs every later command with it; smaller commands are safe.
 */
export const maxReplacementsPerCommand = 50;

async function replaceChunk<T extends Document & { _id: string }>(
  collection: Collection<T>,
  docs: readonly T[],
): Promise<RefusedWrite[]> {
  if (docs.length === 0) return [];
  try {
    await collection.bulkWrite(docs.map(replaceOperation), { ordered: false });
    return [];
  } catch (err) {
    if (isTransientStoreError(err)) throw err;
  }
  const refused: RefusedWrite[] = [];
  for (const doc of docs) {
    try {
      await collection.bulkWrite([replaceOperation(doc)]);
    } catch (err) {
      if (isTransientStoreError(err)) throw err;
      refused.push(refusal(collection.collectionName, doc._id, err));
    }
  }
  return refused;
}

function replaceOperation<T extends Document & { _id: string }>(doc: T): AnyBulkWriteOperation<T> {
  // The driver's Filter<T> cannot see that `_id` is a string key of every T here.
  return { replaceOne: { filter: { _id: doc._id } as never, replacement: doc, upsert: true } };
}

function refusal(collection: string, id: string, err: unknown): RefusedWrite {
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
