import { JetStreamApiCodes, JetStreamApiError } from "@nats-io/jetstream";

/** What a write conditional on a key's revision needs of a KV bucket (`@nats-io/kv`'s `KV`). */
export interface RevisionedKv {
  get(key: string): Promise<{ operation: string; revision: number; string(): string } | null>;
  create(key: string, value: string): Promise<number>;
  update(key: string, value: string, revision: number): Promise<number>;
}

/** How often a write that lost a race with another writer of the key reads again, by default. */
const defaultMaxTries = 10;

/**
 * Whether a KV write failed because the key is no longer at the revision it expected. A clustered
 * stream's leader may answer a lost race with `StreamWrongLastSequenceUnknown` (10164) instead of
 * `StreamWrongLastSequence` (10071).
 */
export function isWrongRevision(err: unknown): boolean {
  return (
    err instanceof JetStreamApiError &&
    (err.code === JetStreamApiCodes.StreamWrongLastSequence ||
      err.code === JetStreamApiCodes.StreamWrongLastSequenceUnknown)
  );
}

/**
 * Writes under `key` what `next` makes of the value stored there (undefined when there is none,
 * or it was deleted), conditional on the revision read, so that of writers of one key at once
 * none writes over another's value unseen: one that loses the race reads again and asks `next`
 * again, at most `maxTries` times in all (then the conflict is thrown). `next` answering
 * undefined writes nothing. Returns what was written, or undefined.
 */
export async function updateByRevision(
  kv: RevisionedKv,
  key: string,
  next: (stored: string | undefined) => string | undefined,
  maxTries = defaultMaxTries,
): Promise<string | undefined> {
  for (let tries = 1; ; tries++) {
    const entry = await kv.get(key);
    const value = next(entry?.operation === "PUT" ? entry.string() : undefined);
    if (value === undefined) return undefined;
    try {
      // A deleted entry's marker has a revision of its own, so only a key never written is created.
      if (entry === null) await kv.create(key, value);
      else await kv.update(key, value, entry.revision);
      return value;
    } catch (err) {
      if (!isWrongRevision(err) || tries >= maxTries) throw err;
    }
  }
}
