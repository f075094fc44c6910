import type { JobTypeSource } from "./submission-check.ts";

/** Most types one request or message has read from the bucket. */
export const maxTypesLookedUp = 8;

/**
 * Reads the types a submission names that the registry's watch has not shown from the bucket,
 * before the submission is checked: a worker's registration reaches each watch a moment after
 * `register` resolved, and a submission sent at once would otherwise be refused as of an unknown
 * type (over NATS, for good). At most {@link maxTypesLookedUp} names are read, so that a bulk of
 * a thousand made-up types costs no more than a few reads.
 */
export async function lookUpUnseenTypes(
  registry: JobTypeSource,
  types: Iterable<unknown>,
): Promise<void> {
  const unseen = new Set<string>();
  for (const type of types) {
    if (typeof type === "string" && registry.get(type) === undefined) unseen.add(type);
    if (unseen.size === maxTypesLookedUp) break;
  }
  await Promise.all([...unseen].map((type) => registry.lookup(type)));
}
