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
