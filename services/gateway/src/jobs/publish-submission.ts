import { duplicateJobId, readFirstSubmission, submissionMessage } from "@conveyor/client";
import { SubmissionSource } from "@conveyor/contracts";
import type { JobSubmission } from "@conveyor/contracts";
import type { TraceContext } from "@conveyor/telemetry";

import type { GatewayDeps } from "../deps.ts";
import { natsNotConnected, submissionNotStored } from "../errors.ts";
import { withTimeout } from "../http/with-timeout.ts";
import type { NatsOut } from "./nats-out.ts";

/** What JetStream made of a submission. */
export interface SubmitOutcome {
  /**
   * The job's id; for a duplicate, the id of the job first stored under the same key, `undefined`
   * when that submission can no longer be read (never the repeat's own id, which no job has).
   */
  id: string | undefined;
  /** W3C trace id of the job's trace, when known. */
  traceId: string | undefined;
  /** True when the intake stream already held a submission with the same idempotency key. */
  duplicate: boolean;
}

type PublishDeps = Pick<GatewayDeps, "jsm" | "tracing" | "logger" | "options">;

/**
 * Publishes a validated submission to `jobs.submit.<type>` and resolves only after JetStream's
 * PubAck, so an accepted job is stored. `Nats-Msg-Id` is the idempotency key (or the job id), so a
 * repeated submission within the intake stream's duplicate window is stored once.
 */
export async function publishSubmission(
  deps: PublishDeps,
  out: NatsOut,
  submission: JobSubmission,
  parent: TraceContext,
): Promise<SubmitOutcome> {
  if (!out.link.up) throw natsNotConnected("the job was not submitted");
  const { id, subject, body, headers, msgID } = submissionMessage(
    submission,
    SubmissionSource.Rest,
  );

  return deps.tracing.produce(
    parent,
    { subject, jobId: id, jobType: submission.type },
    async (ctx) => {
      deps.tracing.inject(ctx, headers);
      const ack = await out.publisher
        .publish(subject, body, {
          msgID,
          headers,
          timeout: deps.options.publishTimeoutMs,
        })
        .catch((err: unknown) => {
          throw submissionNotStored(id, err);
        });
      if (!ack.duplicate) return { id, traceId: deps.tracing.traceIdOf(ctx), duplicate: false };
      const first = await originalOf(deps, ack.seq);
      const { idempotencyKey } = submission;
      return {
        id: duplicateJobId(first, { id, idempotencyKey }),
        traceId: first?.traceId,
        duplicate: true,
      };
    },
  );
}

/** The id and trace of the submission a duplicate collapsed into; `undefined` when unreadable. */
async function originalOf(
  deps: PublishDeps,
  seq: number,
): Promise<{ id: string | undefined; traceId: string | undefined } | undefined> {
  try {
    const first = await withTimeout(
      readFirstSubmission(deps.jsm, seq),
      deps.options.publishTimeoutMs,
      "JetStream",
    );
    if (first !== undefined) {
      return { id: first.id, traceId: deps.tracing.traceIdOf(deps.tracing.extract(first.headers)) };
    }
    deps.logger.warn({ seq }, "the original of a duplicate submission is no longer stored");
  } catch (err) {
    deps.logger.warn({ err, seq }, "could not read the original of a duplicate submission");
  }
  return undefined;
}
