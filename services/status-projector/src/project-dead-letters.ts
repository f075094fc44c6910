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

import { bulkReplace } from "./bulk-replace.ts";
import type { RefusedWrite } from "./refused-write.ts";
import type { StoreResult } from "./projection.ts";

/**
 * Projects a batch of `DLQ` messages, as {@link projectEvents} does events: loads every affected
 * dead-letter document with one `find`, folds the messages into them in memory, and stores the
 * changed ones with one `bulkWrite`. Safe to repeat: the reducer is idempotent.
 *
 * @throws whatever MongoDB throws when it cannot be reached; nothing is partially acknowledged.
 */
export async function projectDeadLetters(
  db: Db,
  facts: readonly DeadLetterFact[],
  signal: AbortSignal,
): Promise<StoreResult> {
  const collection = deadLettersCollection(db);
  const refused: RefusedWrite[] = [];
  const factsByDoc = Map.groupBy(facts, deadLetterIdOf);
  const stored = await findDeadLettersByIds(db, [...factsByDoc.keys()]);
  const storedById = new Map(stored.map((doc) => [doc._id, doc]));

  const changed: DeadLetterDocument[] = [];
  for (const [id, docFacts] of factsByDoc) {
    const before = storedById.get(id);
    try {
      const after = docFacts.reduce<DeadLetterDocument | undefined>(applyDeadLetterFact, before);
      if (after !== undefined && !isDeepStrictEqual(before, after)) changed.push(after);
    } catch (err) {
      // A stored document that is not a DeadLetterDocument cannot be merged; rebuilding fixes it.
      const message = err instanceof Error ? err.message : String(err);
      refused.push({ collection: collection.collectionName, id, message });
    }
  }
  refused.push(...(await bulkReplace(collection, changed.map(toStoredDeadLetter), signal)));
  const refusedIds = new Set(refused.map((r) => r.id));
  const written = changed.filter((doc) => !refusedIds.has(doc._id)).length;
  return { written: { [collection.collectionName]: written }, refused };
}
