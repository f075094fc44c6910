import { Header, JobId, StreamName } from "@conveyor/contracts";
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
 * message first stored under the same `Nats-Msg-Id`; its id is `undefined` when it names none a
 * job can have. `undefined` when it is no longer in `JOBS`;
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
  return { id: storedJobId(fromHeader || undefined, stored.string()), headers: stored.header };
}

/**
 * The id the dispatcher gives a stored submission, read as it reads it: the body's `id`, else a
 * valid `Conveyor-Job-Id` header (a producer such as the nats CLI may set either, or both with
 * different ids). `undefined` when the body names an id no job can have: the dispatcher refused
 * the submission, so no job has either id.
 */
export function storedJobId(header: string | undefined, body: string): string | undefined {
  const inBody = idInBody(body);
  if (inBody.present) return jobIdOrNone(inBody.id);
  return jobIdOrNone(header);
}

/**
 * The id if a job can have it. A raw publish may name any text, which the dispatcher refuses: no
 * job has it, and answered as a job id it would break a `Location` header or a URL.
 */
export function jobIdOrNone(named: string | undefined): string | undefined {
  return named !== undefined && JobId.safeParse(named).success ? named : undefined;
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

/** The body's `id` member, when the body is a JSON object that has one (of whatever type). */
function idInBody(body: string): { present: boolean; id?: string } {
  try {
    const parsed: unknown = JSON.parse(body);
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
      return { present: false };
    }
    if (!Object.hasOwn(parsed, "id")) return { present: false };
    const { id } = parsed as { id?: unknown };
    return typeof id === "string" ? { present: true, id } : { present: true };
  } catch {
    return { present: false };
  }
}
