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

/**
 * The trace id a submission that carries no `traceparent` starts (the job at `index` of a bulk),
 * fixed by the message's stream position as {@link idForIntakeMessage} is: every delivery of it
 * continues one trace, and the sampler decides alike each time. A random one per delivery split a
 * redelivered job in two: its work item (which the worker continues) in the first delivery's
 * trace, its `queued` event, stored by a later delivery, in another.
 */
export function traceIdForIntakeMessage(
  stream: string,
  streamSeq: number,
  storedAt: Date,
  index?: number,
): string {
  const place = index === undefined ? "" : `:${index}`;
  return createHash("sha256")
    .update(`${stream}:${streamSeq}:${storedAt.getTime()}:trace${place}`)
    .digest("hex")
    .slice(0, 32);
}
