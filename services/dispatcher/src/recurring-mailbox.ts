import {
  ConsumerName,
  RecurringSchedule,
  StreamName,
  jsonOrUndefined,
  recurringJobId,
  toValidationIssues,
} from "@conveyor/contracts";
import type { JobTypeSource } from "@conveyor/job-registry";
import type { Logger } from "@conveyor/service-kit";
import type { TraceContext, Tracing } from "@conveyor/telemetry";
import type { JetStreamClient, JsMsg } from "@nats-io/jetstream";

import { rawPreviewOf } from "./intake.ts";
import { decideEnvelope, publishJob, recordRefusal } from "./job-decision.ts";
import type { Refusal } from "./job-decision.ts";
import { idForIntakeMessage, traceIdForIntakeMessage } from "./job-ids.ts";
import { DispatchPublisher } from "./publisher.ts";
import { PullLoop } from "./pull-loop.ts";
import { retryDelayMs } from "./retry-delay.ts";
import { scheduledHolds } from "./scheduled-holds.ts";
import type { ScheduledHolds } from "./scheduled-holds.ts";

export interface RecurringMailboxDeps {
  js: JetStreamClient;
  /** The registered job types: a `JobTypeRegistry`. */
  registry: JobTypeSource;
  tracing: Tracing;
  logger: Logger;
  /** Ticks handled at once. @default 16 */
  concurrency?: number;
  /** How long one pull waits, in milliseconds (bounds how long `stop` waits). @default 1000 */
  pullExpiresMs?: number;
}

export interface RecurringMailbox {
  /** Stops pulling, finishes the ticks in flight, then resolves. */
  stop(): Promise<void>;
}

interface TickDeps {
  registry: JobTypeSource;
  tracing: Tracing;
  publisher: DispatchPublisher;
  holds: ScheduledHolds;
  now: () => Date;
  log: Logger;
}

/**
 * The dispatcher's mailbox of recurring schedules' ticks (`dispatcher-recurring` on `SCHEDULES`,
 * subjects `schedule.tick.<name>`): nats-server's message scheduler copies a schedule there at
 * each of its times, and each tick submits the schedule's job as intake would (checked against
 * the type's registration and schema, queued, or recorded as a rejection), under the id
 * `<name>-<tick time in ms>` and in a trace of its own, then is acknowledged. A tick delivered
 * again submits the same job, which collapses; while publishing fails it is tried again with a
 * growing delay, without limit.
 */
export async function createRecurringMailbox(
  deps: RecurringMailboxDeps,
): Promise<RecurringMailbox> {
  const { js, tracing } = deps;
  const log = deps.logger.child({ actor: "recurring" });
  const tick: TickDeps = {
    registry: deps.registry,
    tracing,
    publisher: new DispatchPublisher(js, tracing),
    holds: await scheduledHolds(js),
    now: () => new Date(),
    log,
  };
  const consumer = await js.consumers.get(StreamName.Schedules, ConsumerName.DispatcherRecurring);
  const loop = new PullLoop(consumer, (msg) => submitTick(msg, tick), log, {
    concurrency: deps.concurrency ?? 16,
    pullExpiresMs: deps.pullExpiresMs,
  });
  loop.start();
  log.info("dispatcher consuming recurring schedules' ticks");
  return { stop: () => loop.stop() };
}

async function submitTick(msg: JsMsg, deps: TickDeps): Promise<void> {
  const tickAt = new Date(Math.floor(msg.info.timestampNanos / 1_000_000));
  try {
    // Each tick's job starts a trace of its own; the schedule's message carries the trace of the
    // request that made it, which every run would otherwise share.
    const outcome = await deps.tracing.consume(
      undefined,
      { subject: msg.subject },
      (context) => submit(msg, tickAt, context, deps),
      () => traceIdForIntakeMessage(StreamName.Schedules, msg.seq, tickAt),
    );
    msg.ack();
    deps.log.debug({ subject: msg.subject, ...outcome }, "recurring schedule ticked");
  } catch (err) {
    const delayMs = retryDelayMs(msg.info.deliveryCount);
    deps.log.warn(
      { err, subject: msg.subject, delayMs },
      "submitting a recurring schedule's job failed; it will be retried",
    );
    msg.nak(delayMs);
  }
}

async function submit(
  msg: JsMsg,
  tickAt: Date,
  context: TraceContext,
  deps: TickDeps,
): Promise<{ jobId?: string; rejectionId?: string }> {
  const schedule = RecurringSchedule.safeParse(jsonOrUndefined(msg.data));
  if (!schedule.success) {
    const issues = toValidationIssues(schedule.error);
    const summary = issues.map((issue) => `${issue.path}: ${issue.message}`).join("; ");
    return reject(msg, tickAt, context, deps, {
      reason: "invalid_schedule",
      message: `invalid recurring schedule: ${summary}`,
      issues,
      jobId: undefined,
      rawPreview: rawPreviewOf(msg),
    });
  }
  const { name, job, source } = schedule.data;
  const id = recurringJobId(name, tickAt);
  // Its runs are listed together: GET /v1/jobs?batchId=<name>.
  const envelope = { ...job, id, batchId: job.batchId ?? name };
  const decision = decideEnvelope(
    envelope,
    {
      subjectType: undefined,
      source,
      fallbackId: () => id,
      storedAt: tickAt,
      rawPreview: () => JSON.stringify(envelope).slice(0, 2048),
    },
    deps,
    context,
  );
  if (decision.kind === "reject") return reject(msg, tickAt, context, deps, decision.refusal);
  await publishJob(deps, context, decision);
  return { jobId: id };
}

async function reject(
  msg: JsMsg,
  tickAt: Date,
  context: TraceContext,
  deps: TickDeps,
  refusal: Refusal,
): Promise<{ rejectionId: string }> {
  const rejectionId = idForIntakeMessage(StreamName.Schedules, msg.seq, tickAt, "rejection");
  const refused = { rejectionId, subject: msg.subject, sizeBytes: msg.data.byteLength };
  await recordRefusal(deps, context, refused, refusal);
  return { rejectionId };
}
