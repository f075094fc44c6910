import type { AnyBulkWriteOperation, Collection, Document } from "mongodb";

import { StoreConflictError } from "./errors.ts";
import { refusal } from "./refused-write.ts";
import type { RefusedWrite } from "./refused-write.ts";
import { isDuplicateKey, isTransientStoreError } from "./store-errors.ts";

/** A document with an `_id`, as every collection of the read model keeps them. */
type Identified = Document & { _id: string };

/** What {@link bulkReplaceRevisions} did not store. */
export interface ReplaceOutcome<T> {
  /** Documents that cannot be stored as they are. */
  refused: RefusedWrite[];
  /** Documents whose stored revision is not the one they were folded from. */
  conflicts: T[];
}

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
export async function bulkReplace<T extends Identified>(
  collection: Collection<T>,
  docs: readonly T[],
  signal: AbortSignal,
  onStored: (doc: T) => void = () => {},
): Promise<RefusedWrite[]> {
  const { refused, conflicts } = await replaceAll(collection, docs, signal, onStored, upsertById);
  // Only two upserts of one new `_id` at once conflict; written again, they do not.
  if (conflicts.length > 0) throw new StoreConflictError(conflicts.map((doc) => doc._id));
  return refused;
}

/**
 * The `revision` a document folded from one stored at `revisionRead` is written with: one more, or
 * 1 for a document stored without one (or with anything but a count, say edited by hand).
 */
export function nextRevision(revisionRead: unknown): number {
  const next = Number.isSafeInteger(revisionRead) ? (revisionRead as number) + 1 : 1;
  return Math.max(1, next);
}

/** How {@link bulkReplaceRevisions} writes. */
export interface RevisionFence<T> {
  /**
   * The `revision` value each document replaces, exactly as it was read (`undefined`: a document
   * stored without one, or none).
   */
  replaces: (doc: T) => unknown;
  /** False replaces by `_id` alone (see the projector's `fenceRevisions`). @default true */
  fence?: boolean;
  onStored?: (doc: T) => void;
}

/**
 * {@link bulkReplace} with a fence: each document replaces only the stored revision it was folded
 * from (`fence.replaces`), or, when its job has no document, is inserted. A write that reaches the
 * server after a newer revision was stored (the write of an attempt abandoned at its deadline,
 * which the server ran late) then fails on the duplicate `_id` instead of overwriting the newer
 * document; so does a write folded from a stale cached document. Those documents are returned as
 * `conflicts`, for the caller to fold again from what is stored.
 */
export async function bulkReplaceRevisions<T extends Identified>(
  collection: Collection<T>,
  docs: readonly T[],
  signal: AbortSignal,
  { replaces, fence = true, onStored = () => {} }: RevisionFence<T>,
): Promise<ReplaceOutcome<T>> {
  const operation = fence ? (doc: T) => replaceRevision(doc, replaces(doc)) : upsertById;
  return replaceAll(collection, docs, signal, onStored, operation);
}

/**
 * {@link bulkReplaceRevisions} until no write meets another revision: each round writes what
 * `take` gives, and the documents stored at another revision than the one folded (a stale cache
 * entry, or an abandoned attempt's write that landed after all) are handed to `refold`, which
 * folds them again from what is stored for the next round. After {@link maxConflictRounds}
 * rounds that still conflict it throws a {@link StoreConflictError}, and the batch is retried
 * whole. Returns the documents refused.
 */
export async function replaceRevisionsRefolding<T extends Identified>(
  collection: Collection<T>,
  take: () => T[],
  refold: (ids: string[]) => Promise<void>,
  signal: AbortSignal,
  fence: RevisionFence<T>,
): Promise<RefusedWrite[]> {
  const refused: RefusedWrite[] = [];
  for (let round = 1; ; round++) {
    const replaced = await bulkReplaceRevisions(collection, take(), signal, fence);
    refused.push(...replaced.refused);
    if (replaced.conflicts.length === 0) return refused;
    const ids = replaced.conflicts.map((doc) => doc._id);
    if (round === maxConflictRounds) throw new StoreConflictError(ids);
    await refold(ids);
  }
}

/**
 * How often one batch folds a document again after its write met another revision. Once is
 * enough unless another writer keeps changing it; the batch is then retried as a whole.
 */
const maxConflictRounds = 3;

/**
 * FerretDB 1.24 (SQLite) never answers an unordered bulk write of 100 or more replacements of
 * existing documents, and hangs every later command with it; smaller commands are safe. (Its
 * update handler keeps the lookup of every replacement open, each holding one of the database's
 * 100 SQLite connections, until the whole command is done.)
 */
export const maxReplacementsPerCommand = 50;

type Operation<T extends Identified> = (doc: T) => AnyBulkWriteOperation<T>;

async function replaceAll<T extends Identified>(
  collection: Collection<T>,
  docs: readonly T[],
  signal: AbortSignal,
  onStored: (doc: T) => void,
  operation: Operation<T>,
): Promise<ReplaceOutcome<T>> {
  const outcome: ReplaceOutcome<T> = { refused: [], conflicts: [] };
  for (let start = 0; start < docs.length; start += maxReplacementsPerCommand) {
    const chunk = docs.slice(start, start + maxReplacementsPerCommand);
    await replaceChunk(collection, chunk, signal, onStored, operation, outcome);
  }
  return outcome;
}

async function replaceChunk<T extends Identified>(
  collection: Collection<T>,
  docs: readonly T[],
  signal: AbortSignal,
  onStored: (doc: T) => void,
  operation: Operation<T>,
  outcome: ReplaceOutcome<T>,
): Promise<void> {
  if (docs.length === 0) return;
  signal.throwIfAborted();
  try {
    await collection.bulkWrite(docs.map(operation), { ordered: false });
    for (const doc of docs) onStored(doc);
    return;
  } catch (err) {
    // A conflict says nothing about the other documents: FerretDB reports the wrong index.
    if (isTransientStoreError(err) && !isDuplicateKey(err)) throw err;
  }
  for (const doc of docs) {
    signal.throwIfAborted();
    try {
      await collection.bulkWrite([operation(doc)]);
      onStored(doc);
    } catch (err) {
      if (isDuplicateKey(err)) outcome.conflicts.push(doc);
      else if (isTransientStoreError(err)) throw err;
      else outcome.refused.push(refusal(collection.collectionName, doc._id, err));
    }
  }
}

function upsertById<T extends Identified>(doc: T): AnyBulkWriteOperation<T> {
  // The driver's Filter<T> cannot see that `_id` is a string key of every T here.
  return { replaceOne: { filter: { _id: doc._id } as never, replacement: doc, upsert: true } };
}

function replaceRevision<T extends Identified>(doc: T, stored: unknown): AnyBulkWriteOperation<T> {
  // An upsert whose filter matches nothing inserts, and so fails on an `_id` stored at another
  // revision; MongoDB retries such an upsert only when its filter is the `_id` alone.
  const filter = { _id: doc._id, revision: stored === undefined ? { $exists: false } : stored };
  return { replaceOne: { filter: filter as never, replacement: doc, upsert: true } };
}
