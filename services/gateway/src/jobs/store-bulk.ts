import { bulkMessages, maxBulkMessageBytes, sendBulkOrJobByJob } from "@conveyor/client";
import type { BulkJob, BulkMessage } from "@conveyor/client";
import { Header, SubmissionSource } from "@conveyor/contracts";
import { isMessageTooLarge } from "@conveyor/service-kit";
import type { TraceContext } from "@conveyor/telemetry";

import type { GatewayDeps } from "../deps.ts";
import type { NatsOut } from "./nats-out.ts";

/** What became of one job of a bulk: stored (perhaps as a duplicate), or why it was not. */
export type BulkJobOutcome =
  | { index: number; stored: true; duplicate: boolean }
  | { index: number; stored: false; error: unknown };

type StoreDeps = Pick<GatewayDeps, "nc" | "tracing" | "options">;

/**
 * Stores checked jobs as bulk submissions on `jobs.bulk.<type>` (one message per type and
 * `max_payload`), each message in a PRODUCER span of the request's trace, and says what became of
 * every job. A message the stream refuses for its size (over a `max_msg_size` below the server's
 * `max_payload`; nothing of it is stored) is sent again job by job, so that gathering jobs never
 * refuses one that alone would be stored.
 */
export async function storeBulk(
  deps: StoreDeps,
  out: NatsOut,
  jobs: readonly BulkJob[],
  trace: TraceContext,
): Promise<BulkJobOutcome[]> {
  const messages = bulkMessages(jobs, maxBulkMessageBytes(deps.nc));
  const outcomes = await Promise.all(messages.map((message) => store(deps, out, message, trace)));
  return outcomes.flat().sort((a, b) => a.index - b.index);
}

/** Stores one message, or its jobs one by one when the stream refuses it for its size. */
function store(
  deps: StoreDeps,
  out: NatsOut,
  message: BulkMessage,
  trace: TraceContext,
): Promise<BulkJobOutcome[]> {
  return sendBulkOrJobByJob(
    message,
    (bulk) => storeOnce(deps, out, bulk, trace),
    allRefusedForSize,
  );
}

async function storeOnce(
  deps: StoreDeps,
  out: NatsOut,
  message: BulkMessage,
  trace: TraceContext,
): Promise<BulkJobOutcome[]> {
  try {
    const duplicate = await publish(deps, out, message, trace);
    return message.jobs.map(({ index }) => ({ index, stored: true, duplicate }));
  } catch (err) {
    return message.jobs.map(({ index }) => ({ index, stored: false, error: err }));
  }
}

/** Whether the stream refused a whole message for its size: nothing of it was stored. */
function allRefusedForSize(outcomes: readonly BulkJobOutcome[]): boolean {
  return outcomes.every((outcome) => !outcome.stored && isMessageTooLarge(outcome.error));
}

/** Resolves with whether the message was a duplicate; rejects when JetStream did not confirm it. */
function publish(
  deps: StoreDeps,
  out: NatsOut,
  message: BulkMessage,
  trace: TraceContext,
): Promise<boolean> {
  const { subject, body, headers, msgID } = message;
  headers.append(Header.Source, SubmissionSource.Rest);
  return deps.tracing.produce(trace, { subject, jobType: message.type }, async (ctx) => {
    deps.tracing.inject(ctx, headers);
    const ack = await out.publisher.publish(subject, body, {
      msgID,
      headers,
      timeout: deps.options.publishTimeoutMs,
    });
    return ack.duplicate;
  });
}
