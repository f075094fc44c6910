import { JetStreamApiCodes, JetStreamApiError } from "@nats-io/jetstream";
import type { KV } from "@nats-io/kv";

/** How often a write that lost a race with another writer of the key reads again. */
const maxWriteTries = 10;

/**
 * Stores `value` under `key` unless the value there already supersedes it (`supersedes`, given
 * that value as `read` reads it; an unreadable one counts as none), and returns the superseding
 * value when it does. The write is conditional on the revision read, so two writers of one key at
 * once (two dispatchers, or side by side) can never leave the superseded value stored.
 */
export async function putUnlessSuperseded<T>(
  kv: KV,
  key: string,
  value: string,
  read: (text: string) => T | undefined,
  supersedes: (stored: T) => boolean,
): Promise<T | undefined> {
  for (let tries = 1; ; tries++) {
    const entry = await kv.get(key);
    const stored = entry?.operation === "PUT" ? read(entry.string()) : undefined;
    if (stored !== undefined && supersedes(stored)) return stored;
    try {
      // A deleted entry's marker has a revision of its own, so only a key never written is created.
      if (entry === null) await kv.create(key, value);
      else await kv.update(key, value, entry.revision);
      return undefined;
    } catch (err) {
      if (!isRevisionConflict(err) || tries >= maxWriteTries) throw err;
    }
  }
}

function isRevisionConflict(err: unknown): boolean {
  return (
    err instanceof JetStreamApiError &&
    (err.code === JetStreamApiCodes.StreamWrongLastSequence ||
      err.code === JetStreamApiCodes.StreamWrongLastSequenceUnknown)
  );
}
