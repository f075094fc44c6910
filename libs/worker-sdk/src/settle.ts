import { setTimeout as sleep } from "node:timers/promises";

import { LifecycleKind, StreamName, rejectionRawPreviewChars } from "@conveyor/contracts";
import type {
  CancelledEvent,
  DeadEvent,
  DeadLetter,
  FailedEvent,
  SucceededEvent,
  WorkItem,
} from "@conveyor/contracts";
import { headersOrNone } from "@conveyor/service-kit";
import type { Logger } from "@conveyor/service-kit";
import type { TraceContext } from "@conveyor/telemetry";
import type { JsMsg } from "@nats-io/jetstream";

import { InvalidResultError, MessageTooLargeError } from "./errors.ts";
import type { LifecyclePublisher } from "./event-publisher.ts";
import { DeadReason, compactErrorInfo, toErrorInfo } from "./outcome.ts";
import type { AppliedOutcome, Outcome } from "./outcome.ts";

/** What is known about one delivery when its outcome is applied. */
export interface DeliveryRecord {
  msg: JsMsg;
  type: string;
  /** 1-based delivery count. */
  attempt: number;
  /**
   * Earlier deliveries of this run that a stopping worker cut short, not counted as attempts, and
   * of them those stopped before their handler started; carried on in this delivery's `failed`
   * event.
   */
  uncounted: number;
  unstarted: number;
  /** Whether this delivery was stopped while it waited for its rate limit, its handler not started. */
  stoppedWaiting?: boolean;
  /** The work item, when the message was readable. */
  workItem: WorkItem | undefined;
  /** The job id; undefined when the message named none (then no lifecycle event can be sent). */
  jobId: string | undefined;
  run: number;
  trace: TraceContext;
  traceId: string | undefined;
  workerId: string;
  /** When the handler started (epoch ms); undefined when it never ran. */
  startedAt: number | undefined;
  /**
   * When the handler returned, threw or was given up on (epoch ms). The attempt's duration ends
   * there: recording the outcome may first wait for the `started` event to be stored.
   */
  handlerEndedAt?: number | undefined;
}

export interface SettleDeps {
  publisher: LifecyclePublisher;
  logger: Logger;
  /**
   * Pauses before each further try of the `succeeded` event and of the dead letter (after the
   * last the job goes back to the queue), and of the `dead` event once the letter is stored (after
   * the last the job is terminated anyway), in milliseconds. @default {@link outcomeRetryDelaysMs}
   */
  outcomeRetryDelaysMs?: readonly number[];
  /**
   * Aborted when the worker stops and its grace period is over: an outcome's record is then not
   * tried again, so that the job goes back (or is terminated) and the worker exits in time.
   */
  stopping?: AbortSignal | undefined;
}

/** How long the delivery's handler ran (until now, if it has not ended); undefined if it never ran. */
export function handlerDurationMs(delivery: DeliveryRecord): number | undefined {
  const { startedAt, handlerEndedAt } = delivery;
  return startedAt === undefined
    ? undefined
    : Math.max(0, (handlerEndedAt ?? Date.now()) - startedAt);
}

/** Delay before a job whose outcome could not be recorded is tried again, in milliseconds. */
export const unrecordedRetryDelayMs = 2000;

/**
 * Pauses between tries of the `succeeded` event, of the dead letter, and of the `dead` event once
 * the letter is stored, in milliseconds (3.5 s in all for each; the delivery keeps renewing the
 * job's lease meanwhile).
 */
export const outcomeRetryDelaysMs: readonly number[] = [250, 1000, 2250];

/**
 * Runs `store`, and again after each of `delays` while it rejects (telling `onRetry` first);
 * rejects with the last error. A message too large is not tried again: it would be as large; nor
 * is anything once `stopping` is aborted.
 */
async function withRetries(
  store: () => Promise<unknown>,
  delays: readonly number[],
  onRetry: (err: unknown, delayMs: number) => void,
  stopping?: AbortSignal,
): Promise<void> {
  for (let tried = 0; ; tried++) {
    try {
      await store();
      return;
    } catch (err) {
      const delayMs = delays[tried];
      if (delayMs === undefined || err instanceof MessageTooLargeError || stopping?.aborted) {
        throw err;
      }
      onRetry(err, delayMs);
      await sleep(delayMs, undefined, { signal: stopping }).catch(() => undefined);
      if (stopping?.aborted) throw err;
    }
  }
}

/**
 * Applies an outcome, the one place where a delivery is acknowledged: success publishes the
 * `succeeded` event, then `ack`; a retry publishes `failed`, then `nak(delay)`; death publishes the
 * dead letter, then the `dead` event (retried a few times), then `term` (which deletes the work
 * message, so only after the letter is stored); a cancel publishes `cancelled`, then `ack`. When the facts cannot be stored
 * the job is `nak`ed, never dropped.
 *
 * @returns what was done: the outcome's kind, or `unrecorded` when it could not be recorded and
 *   the job was handed back to run again.
 */
export async function settle(
  outcome: Outcome,
  delivery: DeliveryRecord,
  deps: SettleDeps,
): Promise<AppliedOutcome> {
  const { msg } = delivery;
  // A child logger costs a serialization of its bindings: made only when something is logged.
  let child: Logger | undefined;
  const log = (): Logger =>
    (child ??= deps.logger.child({
      jobId: delivery.jobId,
      type: delivery.type,
      attempt: delivery.attempt,
    }));
  // Acknowledgements leave with the publishes of the same turn, in one socket write.
  const ack = () => {
    deps.publisher.send(() => {
      msg.ack();
    });
  };
  const nak = (delayMs: number) => {
    deps.publisher.send(() => {
      msg.nak(delayMs);
    });
  };
  const term = (reason: string) => {
    deps.publisher.send(() => {
      msg.term(reason);
    });
  };
  const durationMs = handlerDurationMs(delivery) ?? 0;
  // The outcome event records the start too: a short attempt has no `started` event.
  const startedAt =
    delivery.startedAt === undefined ? undefined : new Date(delivery.startedAt).toISOString();
  // A dead or cancelled attempt records these only when its handler ran.
  const endedAttempt =
    startedAt === undefined ? {} : { durationMs, workerId: delivery.workerId, startedAt };
  switch (outcome.kind) {
    case "succeeded": {
      const succeeded = {
        kind: LifecycleKind.Succeeded,
        result: outcome.result,
        durationMs,
        workerId: delivery.workerId,
        startedAt,
      };
      // Tried in place before the job goes back: handed back, it runs again, and on its last
      // attempt its next delivery is dead-lettered as delivered too often, its result lost.
      try {
        await withRetries(
          () => publishEvent(delivery, deps, succeeded),
          deps.outcomeRetryDelaysMs ?? outcomeRetryDelaysMs,
          (err, delayMs) => {
            log().warn({ err, delayMs }, "could not record success; trying again");
          },
          deps.stopping,
        );
      } catch (err) {
        if (err instanceof MessageTooLargeError) {
          const error = new InvalidResultError(`result too large: ${err.message}`, { cause: err });
          return settle(
            { kind: "dead", error: toErrorInfo(error), reason: DeadReason.NonRetryable },
            delivery,
            deps,
          );
        }
        log().error({ err }, "could not record success; the job will run again");
        nak(unrecordedRetryDelayMs);
        return "unrecorded";
      }
      ack();
      // Success is the common case: a line per job would cost more than a no-op job itself.
      if (deps.logger.isLevelEnabled("debug")) log().debug({ durationMs }, "job succeeded");
      return "succeeded";
    }
    case "retry": {
      // The run's count so far, this delivery included when a stop cut it short: the next
      // delivery reads it from this event.
      const stopped = outcome.uncounted === true;
      const uncounted = delivery.uncounted + (stopped ? 1 : 0);
      const unstarted = delivery.unstarted + (stopped && delivery.stoppedWaiting === true ? 1 : 0);
      try {
        await publishEvent(delivery, deps, {
          kind: LifecycleKind.Failed,
          error: outcome.error,
          durationMs,
          workerId: delivery.workerId,
          retryDelayMs: outcome.delayMs,
          startedAt,
          ...(uncounted > 0 ? { uncounted } : {}),
          ...(unstarted > 0 ? { unstarted } : {}),
        });
      } catch (err) {
        // The retry matters more than its record: the next attempt's events supersede it.
        log().warn({ err }, "could not record the failed attempt");
      }
      nak(outcome.delayMs);
      log().warn(
        { error: outcome.error.message, retryDelayMs: outcome.delayMs },
        "attempt failed; retrying",
      );
      return "retry";
    }
    case "dead": {
      const delays = deps.outcomeRetryDelaysMs ?? outcomeRetryDelaysMs;
      const letter = deadLetterOf(outcome, delivery);
      // Tried in place before the job goes back: a job handed back runs its handler again, even
      // after a failure that may not be retried, and its last attempt would then be recorded
      // as a crash (delivered too often) instead of what it died of.
      const store = (stored: DeadLetter) =>
        withRetries(
          () => deps.publisher.deadLetter(stored, headersOrNone(msg), delivery.trace),
          delays,
          (err, delayMs) => {
            log().warn({ err, delayMs }, "could not dead-letter the job; trying again");
          },
          deps.stopping,
        );
      try {
        await store(letter).catch((err: unknown) => {
          if (!(err instanceof MessageTooLargeError)) throw err;
          // The work item is what a replay needs; the error's stack is what gives way.
          log().warn({ err }, "dead letter too large; storing it with the error cut short");
          return store({ ...letter, error: compactErrorInfo(letter.error) });
        });
      } catch (err) {
        log().error({ err }, "could not dead-letter the job; it will be delivered again");
        nak(unrecordedRetryDelayMs);
        return "unrecorded";
      }
      // The stored letter is the record of the death (the projector builds the dead letter from
      // it): from here on the job must never run again, so it is terminated whatever happens to
      // the event.
      const dead = {
        kind: LifecycleKind.Dead,
        error: outcome.error,
        reason: outcome.reason,
        ...endedAttempt,
      };
      await withRetries(
        () => publishEvent(delivery, deps, dead),
        delays,
        (err, delayMs) => {
          log().warn({ err, delayMs }, "could not publish the dead event; trying again");
        },
        deps.stopping,
      ).catch((err: unknown) => {
        log().error({ err }, "could not publish the dead event; the dead letter records it");
      });
      term(`${outcome.reason}: ${outcome.error.message}`.slice(0, 200));
      log().warn({ error: outcome.error.message, reason: outcome.reason }, "job dead-lettered");
      return "dead";
    }
    case "cancelled": {
      try {
        await publishEvent(delivery, deps, {
          kind: LifecycleKind.Cancelled,
          reason: outcome.reason,
          ...endedAttempt,
        });
      } catch (err) {
        // The next delivery is cancelled again before it runs.
        log().error({ err }, "could not record the cancel; the job will be delivered again");
        nak(unrecordedRetryDelayMs);
        return "unrecorded";
      }
      ack();
      log().info({ reason: outcome.reason, durationMs }, "job cancelled");
      return "cancelled";
    }
  }
}

type EventBaseKey = "jobId" | "type" | "at" | "run" | "attempt" | "traceId";
type EventFields =
  | Omit<SucceededEvent, EventBaseKey>
  | Omit<FailedEvent, EventBaseKey>
  | Omit<DeadEvent, EventBaseKey>
  | Omit<CancelledEvent, EventBaseKey>;

async function publishEvent(
  delivery: DeliveryRecord,
  deps: SettleDeps,
  fields: EventFields,
): Promise<void> {
  // Without a job id there is no job to tell about: the dead letter alone records it.
  if (delivery.jobId === undefined) return;
  await deps.publisher.event(
    {
      jobId: delivery.jobId,
      type: delivery.type,
      at: new Date().toISOString(),
      run: delivery.run,
      attempt: delivery.attempt,
      traceId: delivery.traceId,
      ...fields,
    },
    delivery.trace,
  );
}

function deadLetterOf(
  outcome: Extract<Outcome, { kind: "dead" }>,
  delivery: DeliveryRecord,
): DeadLetter {
  const { msg } = delivery;
  const letter: DeadLetter = {
    type: delivery.type,
    jobId: delivery.jobId,
    run: delivery.run,
    workItem: delivery.workItem,
    error: outcome.error,
    reason: outcome.reason,
    attempts: delivery.attempt,
    deadAt: new Date().toISOString(),
    source: { stream: StreamName.Work, subject: msg.subject, seq: msg.seq },
    workerId: delivery.workerId,
    traceId: delivery.traceId,
  };
  if (delivery.workItem === undefined) {
    letter.rawPreview = new TextDecoder().decode(msg.data).slice(0, rejectionRawPreviewChars);
  }
  return letter;
}
