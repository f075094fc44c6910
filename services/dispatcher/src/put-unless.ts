import { updateByRevision } from "@conveyor/service-kit";
import type { RevisionedKv } from "@conveyor/service-kit";

/**
 * Stores `value` under `key` unless the value there already supersedes it (`supersedes`, given
 * that value as `read` reads it; an unreadable one counts as none), and returns the superseding
 * value when it does. The write is conditional on the revision read, so two writers of one key at
 * once (two dispatchers, or side by side) can never leave the superseded value stored.
 */
export async function putUnlessSuperseded<T>(
  kv: RevisionedKv,
  key: string,
  value: string,
  read: (text: string) => T | undefined,
  supersedes: (stored: T) => boolean,
): Promise<T | undefined> {
  let superseding: T | undefined;
  await updateByRevision(kv, key, (text) => {
    const stored = text === undefined ? undefined : read(text);
    superseding = stored !== undefined && supersedes(stored) ? stored : undefined;
    return superseding === undefined ? value : undefined;
  });
  return superseding;
}
