import { createHash } from "node:crypto";

import { v7 as uuidv7 } from "uuid";

/**
 * A UUIDv7 derived from the intake message's stream position instead of drawn at random: a
 * redelivered submission (the dispatcher stopped after publishing but before acknowledging) gets
 * the same id, so the work item and events it re-publishes collapse by `Nats-Msg-Id` instead of
 * becoming a second job. The stream time keeps the id time-ordered like any generated job id.
 *
 * `purpose` separates ids minted for different records from one message (`job`, `rejection`);
 * `index`, the records of the jobs of one bulk submission (their place in its `jobs`).
 */
export function idForIntakeMessage(
  stream: string,
  streamSeq: number,
  storedAt: Date,
  purpose: "job" | "rejection",
  index?: number,
): string {
  const place = index === undefined ? "" : `:${index}`;
  const random = createHash("sha256")
    .update(`${stream}:${streamSeq}:${purpose}${place}`)
    .digest()
    .subarray(0, 16);
  return uuidv7({ msecs: storedAt.getTime(), random });
}
