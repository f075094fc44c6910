import { ConsumerName, StreamName, typeFromBulkSubject } from "@conveyor/contracts";
import type { JobTypeSource } from "@conveyor/job-registry";
import { JetStreamPublisher, recordHeadroomBytes } from "@conveyor/service-kit";
import type { Logger } from "@conveyor/service-kit";
import type { Tracing } from "@conveyor/telemetry";
import type { JetStreamClient, JsMsg } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";

import { BatchPullLoop } from "./batch-pull-loop.ts";
import type { DispatchObserver } from "./dispatch-metrics.ts";
import { BulkQueuedEventsMissing, processBulkSubmission } from "./bulk-intake.ts";
import type { BulkOutcome } from "./bulk-intake.ts";
import { processSubmission, recordUnprocessable } from "./intake.ts";
import type { IntakeDeps, IntakeOutcome } from "./intake.ts";
import {
  failureMessage,
  givesUpOn,
  isDeterministicFailure,
  QueuedEventMissing,
} from "./intake-failure.ts";
import { DispatchPublisher } from "./publisher.ts";
import { RetryBudget } from "./retry-budget.ts";
import { retryDelayMs } from "./retry-delay.ts";
import { scheduledHolds } from "./scheduled-holds.ts";

export interface DispatcherOptions {
  /** Largest submission accepted, in bytes; larger ones are recorded as `too_large` rejections. */
  maxSubmissionBytes: number;
  /**
   * Most intake messages held at once (pulled and not yet acknowledged); a busy intake is pulled
   * in batches of at least half this many, unless `maxHeldBytes` allows fewer. Keep it below the
   * consumer's `max_ack_pending` (1000).
   */
  concurrency: number;
  /**
   * Most bytes of single submissions held at once, counted as they arrive: a pull asks for no more
   * than fit at `maxSubmissionBytes` (and 4 KiB) each, at least one when none is held. @default 32 MiB
   */
  maxHeldBytes?: number;
  /**
   * Most bulk submissions (`jobs.bulk.<type>`, up to 1,000 jobs each) held at once, on their own
   * consumer so that they do not hold up single submissions. @default 4
   */
  bulkConcurrency?: number;
  /** How long one pull waits for messages, in milliseconds (bounds how long `stop` waits). @default 1000 */
  pullExpiresMs?: number;
  /**
   * Deliveries after which a submission that still cannot be dispatched, for a reason other than
   * NATS being unavailable (a failure of the dispatcher's own), is recorded as an `unprocessable`
   * rejection and acknowledged: about 25 minutes of retries, 1 s doubling to 30 s; after an
   * outage, not before it failed so five more times (see {@link RetryBudget}). While NATS is
   * unavailable (no answer, `WORK` missing, full or offline) a submission is retried for as long as
   * that lasts and queued once it ends: the intake consumers' deliveries are unlimited. When even
   * the rejection would be refused on every delivery, the message is terminated (it stays in
   * `JOBS`); any other failure to store it is retried. @default 50
   */
  giveUpAfterDeliveries?: number;
}

export const defaultGiveUpAfterDeliveries = 50;
export const defaultBulkConcurrency = 4;
/** 32 MiB: about 100 MiB of heap while they are decided (parsed, and encoded twice). */
export const defaultMaxHeldBytes = 32 * 1024 * 1024;
/** nats-server's `max_payload` when its INFO does not say. */
const natsDefaultMaxPayload = 1024 * 1024;

export interface DispatcherDeps {
  nc: NatsConnection;
  js: JetStreamClient;
  /** The registered job types: a `JobTypeRegistry`. */
  registry: JobTypeSource;
  tracing: Tracing;
  logger: Logger;
  options: DispatcherOptions;
  /** Told of every job queued and every refusal recorded (metrics). */
  observer?: DispatchObserver | undefined;
}

export interface Dispatcher {
  /** Stops pulling, finishes the submissions in flight (settling each), then resolves. */
  stop(): Promise<void>;
}

/**
 * Starts consuming the intake (`dispatcher-intake` on `JOBS`, and bulk submissions on
 * `dispatcher-bulk-intake`): each valid job becomes a work item and a `queued` event, each invalid
 * one a `rejected` event; the intake message is
 * acknowledged only after the server stored what it produced. Messages are handled in batches:
 * what arrives together is published together and acknowledged together. When publishing fails
 * (NATS away), the message is nak'd with a growing delay and tried again, however long the outage
 * lasts; a failure that would repeat on every delivery, or one of another kind at its
 * `giveUpAfterDeliveries`th time, is recorded as an `unprocessable` rejection and acknowledged, unless the
 * work item was stored: that job is queued, and only its `queued` event is retried.
 */
export async function createDispatcher(deps: DispatcherDeps): Promise<Dispatcher> {
  const { logger, options, observer } = deps;
  const consumer = await deps.js.consumers.get(StreamName.Jobs, ConsumerName.DispatcherIntake);
  const bulkConsumer = await deps.js.consumers.get(
    StreamName.Jobs,
    ConsumerName.DispatcherBulkIntake,
  );
  const jetStream = new JetStreamPublisher(deps.nc);
  const intake: IntakeDeps = {
    registry: deps.registry,
    publisher: new DispatchPublisher(jetStream, deps.tracing),
    tracing: deps.tracing,
    maxSubmissionBytes: options.maxSubmissionBytes,
    now: () => new Date(),
    holds: await scheduledHolds(deps.js),
  };

  const giveUpAfter = options.giveUpAfterDeliveries ?? defaultGiveUpAfterDeliveries;
  // When a failing intake message is given up (single and bulk share `JOBS`' sequences).
  const budget = new RetryBudget(giveUpAfter);

  // Dispatching a message, then settling it whatever became of it.
  const settleWith =
    (dispatch: (msg: JsMsg) => Promise<void>) =>
    async (msg: JsMsg): Promise<Settlement> => {
      try {
        await dispatch(msg);
        return acked;
      } catch (err) {
        const deliveries = msg.info.deliveryCount;
        if (err instanceof QueuedEventMissing) return retryQueuedEvent(msg, err, deliveries);
        if (givesUpOn(err, budget.spentBy(msg, err))) return giveUp(msg, err, deliveries);
        const delayMs = retryDelayMs(deliveries);
        logger.warn(
          { err, subject: msg.subject, seq: msg.seq, delayMs },
          "dispatch failed; the submission will be retried",
        );
        return { delayMs };
      }
    };

  // A submission that can never be dispatched, or could not be for too long, ends as a recorded
  // rejection so that it leaves the ack-pending set instead of holding an intake slot for good.
  const giveUp = async (msg: JsMsg, cause: unknown, deliveries: number): Promise<Settlement> => {
    const why = `${failureMessage(cause)} (after ${deliveries} deliveries)`;
    try {
      const outcome = await recordUnprocessable(msg, intake, why);
      countOutcome(outcome);
      logger.error(
        { err: cause, subject: msg.subject, seq: msg.seq, outcome },
        "submission could not be dispatched; recorded as unprocessable",
      );
      return acked;
    } catch (err) {
      if (isDeterministicFailure(err)) {
        // The rejection itself would be refused on every delivery (too large for the stream):
        // retrying would hold the slot for good. Anything else (an outage, a refusal an operator
        // can mend) is retried: an accepted submission is not dropped for it.
        logger.error(
          { err, cause, subject: msg.subject, seq: msg.seq },
          "submission could not be dispatched nor recorded; terminated (it stays in JOBS)",
        );
        return terminated;
      }
      const delayMs = retryDelayMs(deliveries);
      logger.error(
        { err, cause, subject: msg.subject, seq: msg.seq, delayMs },
        "submission could not be dispatched nor recorded; it will be retried",
      );
      return { delayMs };
    }
  };

  // The job is queued (its work item is stored) and will run whatever becomes of the event, so
  // it is never recorded as rejected. Past the retries the submission is acknowledged without
  // its event: the read model then shows the job from its first attempt's events on.
  const retryQueuedEvent = (
    msg: JsMsg,
    err: QueuedEventMissing,
    deliveries: number,
  ): Settlement => {
    const final =
      err instanceof BulkQueuedEventsMissing ? err.allFinal : isDeterministicFailure(err.cause);
    if (final || deliveries >= giveUpAfter) {
      // A bulk's jobs are counted once it is acknowledged, those without their event included.
      if (err instanceof BulkQueuedEventsMissing) logBulkOutcome(err.outcome, msg);
      logger.error(
        { err, jobId: err.jobId, subject: msg.subject, seq: msg.seq, deliveries },
        "job queued without its queued event; it runs, and the read model shows it once it starts",
      );
      return acked;
    }
    const delayMs = retryDelayMs(deliveries);
    logger.warn(
      { err, jobId: err.jobId, subject: msg.subject, seq: msg.seq, delayMs },
      "queued event not stored; the submission will be retried (its work item collapses)",
    );
    return { delayMs };
  };

  const countOutcome = (outcome: IntakeOutcome): void => {
    if (outcome.kind === "queued") observer?.queued(outcome.type, 1);
    else observer?.rejected(outcome.reason, 1);
  };

  const countBulkOutcome = (outcome: BulkOutcome, msg: JsMsg): void => {
    const type = typeFromBulkSubject(msg.subject);
    if (outcome.queued > 0 && type !== undefined) observer?.queued(type, outcome.queued);
    const reasons = new Map<string, number>();
    for (const { reason } of outcome.rejected) reasons.set(reason, (reasons.get(reason) ?? 0) + 1);
    for (const [reason, jobs] of reasons) observer?.rejected(reason, jobs);
  };

  const logBulkOutcome = (outcome: BulkOutcome, msg: JsMsg): void => {
    countBulkOutcome(outcome, msg);
    if (logger.isLevelEnabled("debug")) {
      logger.debug({ queued: outcome.queued, subject: msg.subject }, "bulk submission queued");
    }
    if (outcome.rejected.length > 0) {
      logger.info(
        {
          rejected: outcome.rejected.length,
          first: outcome.rejected.slice(0, 5),
          queued: outcome.queued,
          subject: msg.subject,
        },
        "jobs of a bulk submission rejected",
      );
    }
  };

  const logOutcome = (outcome: IntakeOutcome, msg: JsMsg): void => {
    countOutcome(outcome);
    if (outcome.kind === "queued") {
      if (logger.isLevelEnabled("debug")) {
        logger.debug({ jobId: outcome.jobId, type: outcome.type }, "job queued");
      }
    } else {
      logger.info(
        { rejectionId: outcome.rejectionId, reason: outcome.reason, subject: msg.subject },
        "submission rejected",
      );
    }
  };

  // Every submission of a batch is decided and its messages published in this tick, so they
  // leave in one socket write; the acknowledgements, too, leave together once all are settled.
  const handleBatchWith =
    (settle: (msg: JsMsg) => Promise<Settlement>) => async (batch: JsMsg[]) => {
      const settling = Promise.all(batch.map(async (msg) => ({ msg, how: await settle(msg) })));
      // Deciding is synchronous up to the publishes: all of the batch's are queued now. Writing
      // them at once, not at the end of this turn, spares the next stage a turn of the event loop.
      jetStream.flush();
      const settlements = await settling;
      for (const { msg, how } of settlements) {
        if (how === acked || how === terminated) {
          budget.settled(msg);
          if (how === acked) msg.ack();
          else msg.term("neither dispatched nor recorded");
        } else {
          msg.nak(how.delayMs);
        }
      }
    };

  const single = settleWith(async (msg) => {
    logOutcome(await processSubmission(msg, intake), msg);
  });
  // A bulk is retried whole (what was stored collapses); on its last attempt, and for a job that
  // fails in a way that would repeat, each job not queued is recorded as a rejection of its own
  // (unless NATS is away: then it is retried until it is back), and so is each job of a bulk
  // whose type cannot be looked up for a reason other than an outage.
  const bulk = async (msg: JsMsg): Promise<Settlement> => {
    const deliveries = msg.info.deliveryCount;
    try {
      // The last attempt if it fails once more for a reason other than an outage.
      const lastAttempt = budget.lastIfFails(msg);
      const delivery = { deliveries, lastAttempt };
      logBulkOutcome(await processBulkSubmission(msg, intake, delivery), msg);
      return acked;
    } catch (err) {
      if (err instanceof QueuedEventMissing) return retryQueuedEvent(msg, err, deliveries);
      // Past its last attempt what fails a bulk is storing a record, or an outage: it is retried,
      // never recorded as a whole, as some of its jobs may be queued.
      budget.spentBy(msg, err);
      const delayMs = retryDelayMs(deliveries);
      logger.warn(
        { err, subject: msg.subject, seq: msg.seq, delayMs },
        "bulk submission not fully dispatched; it will be retried (what was stored collapses)",
      );
      return { delayMs };
    }
  };
  const pullExpiresMs = options.pullExpiresMs;
  const bulkConcurrency = options.bulkConcurrency ?? defaultBulkConcurrency;
  const loops = [
    new BatchPullLoop(consumer, handleBatchWith(single), logger, {
      maxHeld: options.concurrency,
      pullExpiresMs,
      bytes: {
        maxHeld: options.maxHeldBytes ?? defaultMaxHeldBytes,
        // A submission costs the most when it is decided (parsed, and encoded twice); a larger one
        // is refused unread, holding its raw bytes only. The bytes held are counted as they come.
        perMessage: Math.min(
          deps.nc.info?.max_payload ?? natsDefaultMaxPayload,
          options.maxSubmissionBytes + recordHeadroomBytes,
        ),
        sizeOf: (msg: JsMsg) => msg.data.length,
      },
    }),
    new BatchPullLoop(bulkConsumer, handleBatchWith(bulk), logger, {
      maxHeld: bulkConcurrency,
      pullExpiresMs,
    }),
  ];
  for (const loop of loops) loop.start();
  logger.info(
    { concurrency: options.concurrency, maxHeldBytes: options.maxHeldBytes, bulkConcurrency },
    "dispatcher consuming intake",
  );
  return {
    stop: async () => {
      await Promise.all(loops.map((loop) => loop.stop()));
      await jetStream.close();
    },
  };
}

/**
 * How an intake message is settled: acknowledged, nak'd to come back after a delay, or terminated
 * (neither dispatched nor recorded, for reasons that would repeat: it stays in `JOBS`).
 */
type Settlement = typeof acked | typeof terminated | { delayMs: number };
const acked = "ack";
const terminated = "term";
