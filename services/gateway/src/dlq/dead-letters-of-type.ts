import { isOpenDeadLetter, listDeadLetters, maxPageLimit } from "@conveyor/read-model";
import type { OpenDeadLetterDocument } from "@conveyor/read-model";
import type { Db } from "mongodb";

/**
 * The open dead letters of a job type, oldest first, at most `max` (read page by page); `more`
 * says that others follow.
 */
export async function openLettersOfType(
  db: Db,
  type: string,
  max: number,
): Promise<{ letters: OpenDeadLetterDocument[]; more: boolean }> {
  const letters: OpenDeadLetterDocument[] = [];
  let cursor: string | undefined;
  do {
    const limit = Math.min(maxPageLimit, max - letters.length);
    const page = await listDeadLetters(db, { type, limit, cursor });
    letters.push(...page.items.filter(isOpenDeadLetter));
    cursor = page.nextCursor ?? undefined;
  } while (cursor !== undefined && letters.length < max);
  return { letters, more: cursor !== undefined };
}
