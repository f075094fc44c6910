import type { AnyBulkWriteOperation, Collection, Document } from "mongodb";

import { refusal } from "./refused-write.ts";
import type { RefusedWrite } from "./refused-write.ts";
import { isTransientStoreError } from "./store-errors.ts";

/**
 * Upserts `docs` by `_id` with unordered `bulkWrite`s of at most {@link maxReplacementsPerCommand}
 * documents. When one fails for a reason other than
 * a transient one (see {@link isTransientStoreError}), every document is written again on its own
 * to learn which fail (FerretDB stops an unordered bulk write at the first refusal and reports the
 * wrong index; the driver refuses to encode a whole batch for one bad document); those are returned
 * and the rest stored. Transient failures (server unreachable, timeouts, unlabelled server errors)
 * are thrown, for the caller to retry. `onStored` is called with each document once the server
 * has confirmed it.
 */
export async function bulkReplace<T extends Document & { _id: string }>(
  collection: Collection<T>,
  docs: readonly T[],
  signal: AbortSignal,
  onStored: (doc: T) => void = () => {},
): Promise<RefusedWrite[]> {
  const refused: RefusedWrite[] = [];
  for (let start = 0; start < docs.length; start += maxReplacementsPerCommand) {
    const chunk = docs.slice(start, start + maxReplacementsPerCommand);
    refused.push(...(await replaceChunk(collection, chunk, signal, onStored)));
  }
  return refused;
}

/**
 * FerretDB 1.24 (SQLite) never answers an unordered bulk write of 100 or more replacements of
 * existing documents, and hangs every later command with it; smaller commands are safe. (Its
 * update handler keeps the lookup of every replacement open, each holding one of the database's
 * 100 SQLite connections, until the whole command is done.)
 */
export const maxReplacementsPerCommand = 50;

async function replaceChunk<T extends Document & { _id: string }>(
  collection: Collection<T>,
  docs: readonly T[],
  signal: AbortSignal,
  onStored: (doc: T) => void,
): Promise<RefusedWrite[]> {
  if (docs.length === 0) return [];
  signal.throwIfAborted();
  try {
    await collection.bulkWrite(docs.map(replaceOperation), { ordered: false });
    for (const doc of docs) onStored(doc);
    return [];
  } catch (err) {
    if (isTransientStoreError(err)) throw err;
  }
  const refused: RefusedWrite[] = [];
  for (const doc of docs) {
    signal.throwIfAborted();
    try {
      await collection.bulkWrite([replaceOperation(doc)]);
      onStored(doc);
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
