import {
  ConsumerName,
  Header,
  StreamName,
  Subject,
  readRecurringSchedule,
  recurringJobId,
  rejectionRawPreviewChars,
} from "@conveyor/contracts";
import type { ReadRecurringSchedule, ScheduleRun } from "@conveyor/contracts";
import type { JobTypeSource } from "@conveyor/job-registry";
import { headersOrNone, waitAtMost } from "@conveyor/service-kit";
import type { Logger } from "@conveyor/service-kit";
import type { TraceContext, Tracing } from "@conveyor/telemetry";
import type { JetStreamClient, JsMsg } from "@nats-io/jetstream";

import { defaultGiveUpAfterDeliveries } from "./dispatcher.ts";
import { rawPreviewOf } from "./intake.ts";
import {
  QueuedEventMissing,
  failureMessage,
  givesUpOn,
  isDeterministicFailure,
} from "./intake-failure.ts";
import { decideEnvelope, publishJob, refuseMessage } from "./job-decision.ts";
import type { Refusal } from "./job-decision.ts";
import { traceIdForIntakeMessage } from "./job-ids.ts";
import { DispatchPublisher } from "./publisher.ts";
import { PullLoop } from "./pull-loop.ts";
import { RetryBudget } from "./retry-budget.ts";
import { retryDelayMs } from "./retry-delay.ts";
import { scheduleRuns } from "./schedule-runs.ts";
import type { ScheduleRuns } from "./schedule-runs.ts";
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
  /** Largest job a tick may make, in bytes (`MAX_SUBMISSION_BYTES`). */
  maxSubmissionBytes: number;
  /**
   * Failures, other than an outage of NATS (waited out, uncounted), after which a tick that still
   * cannot be submitted is recorded as an `unprocessable` rejection and let go. @default 50, as
   * intake's
   */
  giveUpAfterDeliveries?: number;
  /** How long one pull waits, in milliseconds (bounds how long `stop` waits). @default 1000 */
  pullExpiresMs?: number;
}

export interface RecurringMailbox {
  /** Stops pulling, finishes the ticks in flight, then resolves. */
  stop(): Promise<void>;
}

export interface TickDeps {
  maxSubmissionBytes: number;
  giveUpAfter: number;
  /** When a failing tick is given up: an outage is waited out. */
  budget: RetryBudget;
  registry: JobTypeSource;
  tracing: Tracing;
  publisher: DispatchPublisher;
  holds: ScheduledHolds;
  /** Where each schedule's latest run is recorded, for the gateway to show. */
  runs: ScheduleRuns;
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
 * growing delay, through an outage of NATS for as long as it lasts, and once a failure of another
 * kind has spent its {@link RetryBudget} (`giveUpAfterDeliveries` deliveries, about 25 minutes,
 * well within `WORK`'s one-hour duplicate window) recorded as an `unprocessable` rejection, as intake does. A tick
 * whose body is no schedule, or names another one than its subject, is an `invalid_schedule`
 * rejection.
 */
export async function createRecurringMailbox(
  deps: RecurringMailboxDeps,
): Promise<RecurringMailbox> {
  const { js, tracing } = deps;
  const log = deps.logger.child({ actor: "recurring" });
  const tick: TickDeps = {
    maxSubmissionBytes: deps.maxSubmissionBytes,
    giveUpAfter: deps.giveUpAfterDeliveries ?? defaultGiveUpAfterDeliveries,
    budget: new RetryBudget(deps.giveUpAfterDeliveries ?? defaultGiveUpAfterDeliveries),
    registry: deps.registry,
    tracing,
    publisher: new DispatchPublisher(js, tracing),
    holds: await scheduledHolds(js),
    runs: await scheduleRuns(js),
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

export async function submitTick(msg: JsMsg, deps: TickDeps): Promise<void> {
  // When the server stored the tick, as intake takes a submission's.
  const tickAt = msg.time;
  const deliveries = msg.info.deliveryCount;
  // Named by its subject (`schedule.tick.<name>`), whatever its body says.
  const read = readRecurringSchedule(msg.data, nameFromTickSubject(msg.subject));
  // Each tick's job starts a trace of its own; the schedule's message carries the trace of the
  // request that made it, which every run would otherwise share.
  const inTickTrace = <T>(fn: (context: TraceContext) => Promise<T>) =>
    deps.tracing.consume(undefined, { subject: msg.subject }, fn, () =>
      traceIdForIntakeMessage(StreamName.Schedules, msg.seq, tickAt),
    );
  try {
    const outcome = await inTickTrace((context) => submit(msg, read, tickAt, context, deps));
    msg.ack();
    deps.budget.settled(msg);
    await recordRun(msg, read, outcome, deps);
    deps.log.debug({ subject: msg.subject, ...outcome }, "recurring schedule ticked");
  } catch (err) {
    if (err instanceof QueuedEventMissing) {
      // The job is queued and runs; retrying past WORK's duplicate window would queue it again.
      if (isDeterministicFailure(err.cause) || deliveries >= deps.giveUpAfter) {
        deps.log.error(
          { err, subject: msg.subject, deliveries },
          "recurring job queued without its queued event; it runs, and shows once it starts",
        );
        msg.ack();
        deps.budget.settled(msg);
        await recordRun(msg, read, { jobId: err.jobId }, deps);
        return;
      }
    } else if (givesUpOn(err, deps.budget.spentBy(msg, err))) {
      // A tick that can never be submitted, or kept failing for a reason other than an outage, is
      // recorded and let go, so that it does not hold a slot of the mailbox for good.
      const refusal: Refusal = {
        reason: "unprocessable",
        message: `${failureMessage(err)} (after ${String(deliveries)} deliveries)`,
        issues: [],
        jobId: undefined,
        rawPreview: rawPreviewOf(msg),
      };
      try {
        const outcome = await inTickTrace((context) => reject(msg, context, deps, refusal));
        deps.log.error({ err, subject: msg.subject, deliveries }, "recurring tick given up on");
        msg.ack();
        deps.budget.settled(msg);
        await recordRun(msg, read, outcome, deps);
        return;
      } catch (recordErr) {
        deps.log.error({ err: recordErr, cause: err }, "recurring tick could not be recorded");
      }
    }
    const delayMs = retryDelayMs(deliveries);
    deps.log.warn(
      { err, subject: msg.subject, delayMs },
      "submitting a recurring schedule's job failed; it will be retried",
    );
    msg.nak(delayMs);
  }
}

/** Longest a tick's mailbox slot waits for its run to be recorded, in milliseconds. */
const recordRunWaitMs = 2000;

/**
 * Records the acknowledged tick as its schedule's latest run, with the next time the scheduler
 * gave it. The record only informs (`GET /v1/schedules`), so failing to write it, or writing it
 * slowly, holds up neither this run nor the next, whose record replaces it: the slot waits at
 * most {@link recordRunWaitMs}, and a write still going on after that is left to finish.
 */
async function recordRun(
  msg: JsMsg,
  read: ReadRecurringSchedule,
  outcome: { jobId?: string; rejectionId?: string },
  deps: TickDeps,
): Promise<void> {
  if (!read.ok) return;
  const { name, updatedAt } = read.schedule;
  const run: ScheduleRun = {
    scheduleUpdatedAt: updatedAt,
    lastRunAt: msg.time.toISOString(),
    ...(outcome.jobId === undefined ? {} : { lastJobId: outcome.jobId }),
    ...(outcome.rejectionId === undefined ? {} : { lastRejectionId: outcome.rejectionId }),
    ...nextRunOf(msg),
  };
  const failed = (err: unknown) => {
    deps.log.warn({ err, schedule: name }, "the schedule's latest run could not be recorded");
  };
  const recording = deps.runs.record(name, run).catch(failed);
  await waitAtMost(recording, recordRunWaitMs, () => {
    failed(new Error(`not recorded within ${String(recordRunWaitMs)} ms; still trying`));
  });
}

/**
 * `nextRunAt` from the tick's `Nats-Schedule-Next`, when it carries a time. Headers nats.js cannot
 * read (a name with a space, from another client) give none: the tick's job is queued by then, and
 * a throw here would record it as refused too.
 */
function nextRunOf(msg: JsMsg): { nextRunAt?: string } {
  const next = Date.parse(headersOrNone(msg)?.get(Header.ScheduleNext) ?? "");
  return Number.isNaN(next) ? {} : { nextRunAt: new Date(next).toISOString() };
}

async function submit(
  msg: JsMsg,
  read: ReadRecurringSchedule,
  tickAt: Date,
  context: TraceContext,
  deps: TickDeps,
): Promise<{ jobId?: string; rejectionId?: string }> {
  if (!read.ok) {
    return reject(msg, context, deps, {
      reason: "invalid_schedule",
      message: `invalid recurring schedule: ${read.message}`,
      issues: read.issues,
      jobId: undefined,
      rawPreview: rawPreviewOf(msg),
    });
  }
  const { name, job, source } = read.schedule;
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
      rawPreview: () => JSON.stringify(envelope).slice(0, rejectionRawPreviewChars),
    },
    deps,
    context,
  );
  if (decision.kind === "reject") return reject(msg, context, deps, decision.refusal);
  const bytes = Buffer.byteLength(JSON.stringify(decision.item));
  if (bytes > deps.maxSubmissionBytes) {
    const message = `the job is ${String(bytes)} bytes, over the limit of ${String(deps.maxSubmissionBytes)}`;
    return reject(msg, context, deps, {
      reason: "too_large",
      message,
      issues: [{ path: "job", message }],
      jobId: id,
      rawPreview: rawPreviewOf(msg),
    });
  }
  await publishJob(deps, context, decision);
  return { jobId: id };
}

function nameFromTickSubject(subject: string): string | undefined {
  const prefix = Subject.recurringTick("");
  return subject.startsWith(prefix) ? subject.slice(prefix.length) : undefined;
}

async function reject(
  msg: JsMsg,
  context: TraceContext,
  deps: TickDeps,
  refusal: Refusal,
): Promise<{ rejectionId: string }> {
  return { rejectionId: await refuseMessage(deps, context, StreamName.Schedules, msg, refusal) };
}
