import { MongoBulkWriteError, MongoServerError } from "mongodb";
import type { AnyBulkWriteOperation, Collection, Document } from "mongodb";

/** A document the database refused to store (for example one over its size limit). */
export interface RefusedWrite {
  collection: string;
  id: string;
  message: string;
  code?: number | string | undefined;
}

/**
 * Upserts `docs` by `_id` with one unordered `bulkWrite`. When the server refuses some documents,
 * every document is written again on its own to learn which (FerretDB stops an unordered bulk
 * write at the first refusal and reports the wrong index); the refused ones are returned and the
 * rest stored. Anything else (server unreachable, timeouts) is thrown, for the caller to retry.
 */
export async function bulkReplace<T extends Document & { _id: string }>(
  collection: Collection<T>,
  docs: readonly T[],
): Promise<RefusedWrite[]> {
  if (docs.length === 0) return [];
  try {
    await collection.bulkWrite(docs.map(replaceOperation), { ordered: false });
    return [];
  } catch (err) {
    if (!isRefusal(err)) throw err;
  }
  const refused: RefusedWrite[] = [];
  for (const doc of docs) {
    try {
      await collection.bulkWrite([replaceOperation(doc)]);
    } catch (err) {
      if (!isRefusal(err)) throw err;
      const { message, code } = err as MongoServerError;
      refused.push({ collection: collection.collectionName, id: doc._id, message, code });
    }
  }
  return refused;
}

function replaceOperation<T extends Document & { _id: string }>(doc: T): AnyBulkWriteOperation<T> {
  // The driver's Filter<T> cannot see that `_id` is a string key of every T here.
  return { replaceOne: { filter: { _id: doc._id } as never, replacement: doc, upsert: true } };
}

/** The server answered and refused a document: writing it again would fail the same way. */
function isRefusal(err: unknown): boolean {
  if (err instanceof MongoBulkWriteError) {
    return ([] as unknown[]).concat(err.writeErrors).length > 0 && !isRetryable(err);
  }
  return err instanceof MongoServerError && !isRetryable(err);
}

function isRetryable(err: MongoServerError): boolean {
  return err.hasErrorLabel("RetryableWriteError") || err.hasErrorLabel("TransientTransactionError");
}
