import { Header, StreamName } from "@conveyor/contracts";
import type { JetStreamManager } from "@nats-io/jetstream";
import type { MsgHdrs } from "@nats-io/transport-node";

/** The stored submission a duplicate collapsed into. */
export interface FirstSubmission {
  /** Its job id; `undefined` when neither its header nor its body names one. */
  id: string | undefined;
  /** Its headers, where its `traceparent` is. */
  headers: MsgHdrs;
}

/**
 * Reads the submission a duplicate collapsed into: a duplicate's PubAck carries the sequence of the
 * message first stored under the same `Nats-Msg-Id`. `undefined` when it is no longer in `JOBS`;
 * throws when JetStream does not answer. The gateway and {@link JobClient} both answer a
 * duplicate with this id, never with the repeat's own, which no job has.
 */
export async function readFirstSubmission(
  jsm: JetStreamManager,
  seq: number,
): Promise<FirstSubmission | undefined> {
  const stored = await jsm.streams.getMessage(StreamName.Jobs, { seq });
  if (stored === null) return undefined;
  const fromHeader = stored.header.get(Header.JobId);
  if (fromHeader !== "") return { id: fromHeader, headers: stored.header };
  // Published by another producer (the nats CLI) without the header: the body may have it.
  return { id: idInBody(stored.string()), headers: stored.header };
}

/**
 * The id to answer a duplicate submission with: the first submission's, when it could be read.
 * Ids and keys share one deduplication space, so even without a key the first job may be another
 * (one whose key, or raw `Nats-Msg-Id`, is this id). When it cannot be read, a submission without
 * a key was most likely sent before with this very `id`; with a key, the id is unknown.
 */
export function duplicateJobId(
  first: { id: string | undefined } | undefined,
  submission: { id: string; idempotencyKey?: string | undefined },
): string | undefined {
  if (first !== undefined) return first.id;
  return submission.idempotencyKey === undefined ? submission.id : undefined;
}

function idInBody(body: string): string | undefined {
  try {
    const parsed: unknown = JSON.parse(body);
    const id =
      typeof parsed === "object" && parsed !== null ? (parsed as { id?: unknown }).id : undefined;
    return typeof id === "string" && id !== "" ? id : undefined;
  } catch {
    return undefined;
  }
}
