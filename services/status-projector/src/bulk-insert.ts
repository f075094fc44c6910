import { MongoBulkWriteError } from "mongodb";
import type { AnyBulkWriteOperation, Collection, Document, WriteError } from "mongodb";

import { refusal } from "./refused-write.ts";
import type { RefusedWrite } from "./refused-write.ts";
import { duplicateKeyCode, isRefusalCode, isTransientStoreError } from "./store-errors.ts";

/** What {@link bulkInsert} could not insert. */
export interface InsertOutcome<T> {
  /** Documents whose `_id` exists already: for the caller to merge into the stored one. */
  duplicates: T[];
  /** Documents that cannot be stored as they are. */
  refused: RefusedWrite[];
}

/**
 * Most documents per insert command. FerretDB inserts them in transactions of 100; its hang on
 * large bulk writes (see `maxReplacementsPerCommand`) concerns replacements only.
 */
export const maxInsertsPerCommand = 500;

/**
 * Inserts `docs` with unordered `bulkWrite`s of at most {@link maxInsertsPerCommand} documents.
 * A document whose `_id` exists already is returned in `duplicates`, one the server refuses in
 * `refused`; the rest are stored, and `onStored` is called with each once the server confirmed it.
 * When the driver cannot encode a command (one bad document fails them all), the documents are
 * inserted one by one to learn which fail. Transient failures are thrown, for the caller to retry;
 * documents already inserted are then reported as duplicates on the retry.
 *
 * An insert needs no lookup of the stored document, which makes it much cheaper than an upsert on
 * FerretDB; the caller uses it for jobs it has reason to think are new.
 */
export async function bulkInsert<T extends Document & { _id: string }>(
  collection: Collection<T>,
  docs: readonly T[],
  signal: AbortSignal,
  onStored: (doc: T) => void = () => {},
): Promise<InsertOutcome<T>> {
  const outcome: InsertOutcome<T> = { duplicates: [], refused: [] };
  for (let start = 0; start < docs.length; start += maxInsertsPerCommand) {
    const chunk = docs.slice(start, start + maxInsertsPerCommand);
    await insertChunk(collection, chunk, signal, onStored, outcome);
  }
  return outcome;
}

async function insertChunk<T extends Document & { _id: string }>(
  collection: Collection<T>,
  docs: readonly T[],
  signal: AbortSignal,
  onStored: (doc: T) => void,
  outcome: InsertOutcome<T>,
): Promise<void> {
  if (docs.length === 0) return;
  signal.throwIfAborted();
  try {
    await collection.bulkWrite(docs.map(insertOperation), { ordered: false });
    for (const doc of docs) onStored(doc);
    return;
  } catch (err) {
    const failures = perDocumentFailures(err);
    if (failures !== undefined) {
      docs.forEach((doc, index) => {
        const failure = failures.get(index);
        if (failure === undefined) onStored(doc);
        else if (failure.code === duplicateKeyCode) outcome.duplicates.push(doc);
        else outcome.refused.push(writeErrorRefusal(collection.collectionName, doc._id, failure));
      });
      return;
    }
    if (isTransientStoreError(err)) throw err;
  }
  for (const doc of docs) {
    signal.throwIfAborted();
    try {
      await collection.bulkWrite([insertOperation(doc)]);
      onStored(doc);
    } catch (err) {
      const failure = perDocumentFailures(err)?.get(0);
      if (failure?.code === duplicateKeyCode) outcome.duplicates.push(doc);
      else if (failure !== undefined) {
        outcome.refused.push(writeErrorRefusal(collection.collectionName, doc._id, failure));
      } else if (isTransientStoreError(err)) throw err;
      else outcome.refused.push(refusal(collection.collectionName, doc._id, err));
    }
  }
}

interface WriteFailure {
  code: number;
  message: string;
}

/**
 * The failed documents of an unordered insert by index, when every failure is a duplicate `_id` or
 * a refusal of the document: the server then inserted all the others. Undefined for any other
 * failure (the server unreachable, a write concern not met, ...), which says nothing about single
 * documents.
 */
function perDocumentFailures(err: unknown): Map<number, WriteFailure> | undefined {
  if (!(err instanceof MongoBulkWriteError)) return undefined;
  const writeErrors = ([] as WriteError[]).concat(err.writeErrors);
  if (writeErrors.length === 0) return undefined;
  const failures = new Map<number, WriteFailure>();
  for (const writeError of writeErrors) {
    const { index, code } = writeError;
    if (code !== duplicateKeyCode && !isRefusalCode(code)) return undefined;
    failures.set(index, { code, message: writeError.errmsg ?? `write error ${code}` });
  }
  return failures;
}

function writeErrorRefusal(collection: string, id: string, failure: WriteFailure): RefusedWrite {
  return {
    collection,
    id,
    message: failure.message,
    error: "MongoBulkWriteError",
    code: failure.code,
  };
}

function insertOperation<T extends Document & { _id: string }>(doc: T): AnyBulkWriteOperation<T> {
  // The driver's OptionalId<T> cannot see that every T here has its `_id`.
  return { insertOne: { document: doc as never } };
}
