import { newJobId } from "@conveyor/contracts";
import type { JobSubmission, ValidationIssue } from "@conveyor/contracts";
import { idempotencyKeyInBulk, repeatedIdRefusal, splitBulkJobTrace } from "@conveyor/job-registry";
import { traceIdOfTraceparent } from "@conveyor/telemetry";
import type { NatsConnection } from "@nats-io/transport-node";

import type { BulkJob } from "./bulk-messages.ts";

/** Room left in a bulk message for its headers and the protocol, in bytes. */
const headroomBytes = 4096;
/** The NATS server's `max_payload` when the connection does not say (the server's default). */
const defaultMaxPayload = 1024 * 1024;

/** The most bytes of body a bulk message may have on this connection (its server's `max_payload`). */
export function maxBulkMessageBytes(nc: NatsConnection): number {
  return (nc.info?.max_payload ?? defaultMaxPayload) - headroomBytes;
}

/** Why a job of a bulk is refused before anything is sent (its issues' paths not yet placed). */
export interface BulkJobRefusal {
  reason: string;
  message: string;
  issues: ValidationIssue[];
}

/**
 * Checks one job of a bulk before it is sent, in the order the dispatcher would refuse it: its
 * trace fields (`traceparent`, `tracestate`, kept beside the envelope), an `idempotencyKey`, an id
 * an earlier job of the bulk has (`earlier`), the envelope (`check`: the client's envelope check,
 * or the gateway's check against the registry), then its size as JSON with its id fixed
 * (generated when absent).
 */
export function checkBulkJob(
  envelope: unknown,
  index: number,
  options: {
    earlier: number | undefined;
    check: (
      envelope: unknown,
    ) => { ok: true; submission: JobSubmission } | ({ ok: false } & BulkJobRefusal);
    maxJobBytes: number;
  },
): { ok: true; job: BulkJob } | ({ ok: false } & BulkJobRefusal) {
  const split = splitBulkJobTrace(envelope);
  if (!split.ok) return split;
  const keyed = idempotencyKeyInBulk(split.envelope);
  if (keyed) return { ok: false, ...keyed };
  if (options.earlier !== undefined) return { ok: false, ...repeatedIdRefusal(options.earlier) };
  const checked = options.check(split.envelope);
  if (!checked.ok) return checked;
  const id = checked.submission.id ?? newJobId();
  const envelopeJson = JSON.stringify({ ...checked.submission, id });
  // The limit is the envelope's, as the dispatcher measures it: the trace fields are not counted.
  const bytes = Buffer.byteLength(envelopeJson);
  const json =
    split.trace === undefined
      ? envelopeJson
      : JSON.stringify({ ...checked.submission, id, ...split.trace });
  if (bytes > options.maxJobBytes) {
    const message = `the submission is ${bytes} bytes, over the limit of ${options.maxJobBytes}`;
    return { ok: false, reason: "too_large", message, issues: [{ path: "(root)", message }] };
  }
  const traceparent = split.trace?.traceparent;
  const traceId = traceparent === undefined ? undefined : traceIdOfTraceparent(traceparent);
  const ownTrace = traceparent !== undefined;
  return { ok: true, job: { index, id, type: checked.submission.type, json, ownTrace, traceId } };
}
