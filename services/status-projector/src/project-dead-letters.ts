import { isDeepStrictEqual } from "node:util";

import {
  applyDeadLetterFact,
  deadLetterIdOf,
  deadLettersCollection,
  findDeadLettersByIds,
  toStoredDeadLetter,
} from "@conveyor/read-model";
import type { DeadLetterDocument, DeadLetterFact } from "@conveyor/read-model";
import type { Db } from "mongodb";

import { nextRevision, replaceRevisionsRefolding } from "./bulk-replace.ts";
import type { RefusedWrite } from "./refused-write.ts";
import type { StoreResult } from "./projection.ts";

/**
 * Projects a batch of `DLQ` messages, as {@link projectEvents} does events: loads every affected
 * dead-letter document (`findDeadLettersByIds`: by `_id`, which FerretDB serves from its index
 * only one at a time), folds the messages into them in memory, and stores the changed ones with
 * bulk replacements. Safe to repeat: the reducer is idempotent.
 *
 * With `fenceRevisions`, each write replaces only the revision it was folded from, as for jobs:
 * the write of an attempt abandoned at its deadline that the server runs late (a letter stored
 * open) cannot overwrite the newer document (the letter replayed since). A document stored at
 * another revision is read and folded again.
 *
 * @throws whatever MongoDB throws when it cannot be reached; nothing is partially acknowledged.
 */
export async function projectDeadLetters(
  db: Db,
  facts: readonly DeadLetterFact[],
  signal: AbortSignal,
  { fenceRevisions }: { fenceRevisions: boolean },
): Promise<StoreResult> {
  const collection = deadLettersCollection(db);
  const batch = new DeadLetterBatch(collection.collectionName, Map.groupBy(facts, deadLetterIdOf));
  await batch.foldStored(db, [...batch.factsById.keys()]);
  let written = 0;
  const refused = await replaceRevisionsRefolding(
    collection,
    () => batch.takeChanged().map(toStoredDeadLetter),
    (ids) => batch.foldStored(db, ids),
    signal,
    {
      fence: fenceRevisions,
      replaces: (doc) => batch.storedRevision(doc._id),
      onStored: () => {
        written++;
      },
    },
  );
  return {
    written: { [collection.collectionName]: written },
    refused: [...batch.refused, ...refused],
  };
}

/** The dead-letter documents of one batch, folded from what is stored and the batch's facts. */
class DeadLetterBatch {
  readonly factsById: ReadonlyMap<string, readonly DeadLetterFact[]>;
  readonly refused: RefusedWrite[] = [];
  readonly #collection: string;
  #changed: DeadLetterDocument[] = [];
  /** The `revision` of each document as it was read (`undefined`: none, or no document). */
  readonly #storedRevision = new Map<string, unknown>();

  constructor(collection: string, factsById: ReadonlyMap<string, readonly DeadLetterFact[]>) {
    this.#collection = collection;
    this.factsById = factsById;
  }

  /** Reads the stored documents of `ids` (by `_id`) and folds each one's facts into it. */
  async foldStored(db: Db, ids: readonly string[]): Promise<void> {
    const stored = new Map((await findDeadLettersByIds(db, ids)).map((doc) => [doc._id, doc]));
    for (const id of ids) this.#fold(id, stored.get(id));
  }

  /** The changed documents folded since the last call, to write. */
  takeChanged(): DeadLetterDocument[] {
    const taken = this.#changed;
    this.#changed = [];
    return taken;
  }

  /** The `revision` the document `id` to be written replaces, as it was read. */
  storedRevision(id: string): unknown {
    return this.#storedRevision.get(id);
  }

  #fold(id: string, before: DeadLetterDocument | undefined): void {
    // The revision is the write's, not the DLQ's: it is left out of the fold and the comparison.
    const { revision, ...base } = before ?? {};
    const from = before === undefined ? undefined : (base as DeadLetterDocument);
    let after: DeadLetterDocument | undefined;
    try {
      const facts = this.factsById.get(id) ?? [];
      after = facts.reduce<DeadLetterDocument | undefined>(applyDeadLetterFact, from);
    } catch (err) {
      // A stored document that is not a DeadLetterDocument cannot be merged; rebuilding fixes it.
      const message = err instanceof Error ? err.message : String(err);
      this.refused.push({ collection: this.#collection, id, message });
      return;
    }
    if (after === undefined || isDeepStrictEqual(from, after)) return;
    // Whatever a document holds (one edited by hand, say), the fence names exactly that.
    const revisionRead: unknown = revision;
    this.#storedRevision.set(id, revisionRead);
    this.#changed.push({ ...after, revision: nextRevision(revisionRead) });
  }
}
