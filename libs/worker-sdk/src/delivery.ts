import { Header, JobId, LifecycleKind, effectivePolicy } from "@conveyor/contracts";
import type { CancellationRecord, JobEvent, RetryOverride } from "@conveyor/contracts";
import { headersOrNone } from "@conveyor/service-kit";
import type { Logger } from "@conveyor/service-kit";
import type { Tracing } from "@conveyor/telemetry";
import { workMaxDeliverCap } from "@conveyor/topology";
import type { JsMsg } from "@nats-io/jetstream";

import type { CancellationLookup } from "./cancellation-view.ts";
import { JobCancelledError, OutdatedDeclarationError, WorkerStoppedError } from "./errors.ts";
import type { InvalidPayloadError, JobFailure } from "./errors.ts";
import type { LifecyclePublisher } from "./event-publisher.ts";
import { DeliveryContext } from "./delivery-context.ts";
import type { Job } from "./handler.ts";
import type { AttemptReport, TypeSettings } from "./options.ts";
import { decideOutcome, exceededDeliveries } from "./outcome.ts";
import type { AppliedOutcome, AttemptFacts, Outcome, Settled } from "./outcome.ts";
import { ProgressReporter } from "./progress-reporter.ts";
import type { ProgressReport } from "./progress-reporter.ts";
import { runHandler } from "./run-handler.ts";
import type { HandlerGuard } from "./run-handler.ts";
import { handlerDurationMs, settle, unrecordedRetryDelayMs } from "./settle.ts";
import type { DeliveryRecord } from "./settle.ts";
import type { RateLimiter } from "./rate-limiter.ts";
import type { CutShort, UncountedDeliveries } from "./uncounted-deliveries.ts";
import { parsePayload, readWorkItem } from "./work-item.ts";
import type { ParsedPayload } from "./work-item.ts";

/** What every delivery of one job type needs. */
export interface DeliveryDeps {
  settings: TypeSettings;
  publisher: LifecyclePublisher;
  tracing: Tracing;
  logger: Logger;
  workerId: string;
  heartbeatMs: number;
  progressIntervalMs: number;
  /** Cancelled jobs, kept current by the worker's watch of the cancellations bucket. */
  cancellations: CancellationLookup;
  /**
   * The `version` of the type's declaration in force (the registry's), when known: a payload this
   * worker's older declaration refuses may be one the newer accepts.
   */
  versionInForce?: (() => number | undefined) | undefined;
  /** Told of every attempt once its outcome is applied (see `WorkerOptions.onAttemptEnd`). */
  onAttemptEnd?: ((report: AttemptReport) => void) | undefined;
  /** Pauses between tries of an outcome's record, as `SettleDeps` has them. */
  outcomeRetryDelaysMs?: readonly number[] | undefined;
  /**
   * Reads how many earlier deliveries of a run a stopping worker cut short, on a job's second and
   * later deliveries; without it every delivery counts as an attempt.
   */
  uncountedDeliveries?: UncountedDeliveries | undefined;
  /** The type's rate limit: a job starts once it has counted its start. @default none */
  rateLimiter?: Pick<RateLimiter, "take"> | undefined;
}

/**
 * How a delivery takes a handler slot of its type (a {@link SlotGate}'s, at its job's priority)
 * before its handler starts; without one it starts at once.
 */
export interface DeliverySlot {
  /** Takes a free slot nobody waits for; false when the job must wait for one. */
  tryTake(): boolean;
  /** Resolves once the job holds a slot; rejects with the signal's reason when it aborts first. */
  take(signal: AbortSignal): Promise<void>;
}

/**
 * One delivered work message, from reading it to acknowledging it, in a CONSUMER span that
 * continues the job's trace.
 */
export class Delivery {
  readonly #msg: JsMsg;
  readonly #deps: DeliveryDeps;
  readonly #slot: DeliverySlot | undefined;
  readonly #controller = new AbortController();
  /** Aborted to stop waiting for a cancelled handler that is still winding down. */
  readonly #abandon = new AbortController();
  /** Aborted when the worker stops: recording the outcome is then not tried again. */
  readonly #stopping = new AbortController();
  readonly #handlerDone = Promise.withResolvers<undefined>();
  #unsubscribe: (() => void) | undefined;
  /** Renews the lease from the delivery until it is settled. */
  #leaseKeeper: NodeJS.Timeout | undefined;
  /** When the attempt's timeout runs out, from its first guarded call (`Date.now()` time). */
  #deadline: number | undefined;
  /** Whether the job waits for a handler slot or its rate limit to let it start. */
  #waitingToStart = false;
  /** How long it waited for its rate limit, in milliseconds. */
  #rateLimitedMs = 0;
  /** Set when the worker stops: a job that has yet to wait for its start does not. */
  #startNoMore = false;

  constructor(msg: JsMsg, deps: DeliveryDeps, slot?: DeliverySlot) {
    this.#msg = msg;
    this.#deps = deps;
    this.#slot = slot;
  }

  /**
   * Ends the attempt early because the worker stops: the handler is aborted and the job returned,
   * or, when the job was cancelled and its handler is winding down, no longer waited for.
   */
  interrupt(): void {
    this.#stopping.abort();
    if (!this.#controller.signal.aborted) this.#controller.abort(new WorkerStoppedError());
    else this.#abandon.abort();
  }

  /**
   * For a worker stopping: a job waiting for a handler slot or its rate limit, or coming to that
   * wait later, is returned at once instead of starting within the grace period (its stop not
   * counted).
   */
  startNoMore(): void {
    this.#startNoMore = true;
    if (this.#waitingToStart) this.interrupt();
  }

  /** Ends the attempt because the job was cancelled: the handler's signal is aborted. */
  cancel(record: CancellationRecord): void {
    if (this.#controller.signal.aborted) return;
    const { subject, seq } = this.#msg;
    this.#deps.logger.info({ subject, seq, reason: record.reason }, "job cancelled while running");
    this.#controller.abort(new JobCancelledError(record.reason, record.requestedAt));
  }

  /**
   * Resolves once the handler has returned, or once it is known that none will run (a cancelled
   * or unreadable job): from then on the delivery only records its outcome and settles.
   */
  get handlerDone(): Promise<undefined> {
    return this.#handlerDone.promise;
  }

  /** Processes the delivery; never rejects. */
  async process(): Promise<void> {
    const msg = this.#msg;
    const { settings, tracing, logger } = this.#deps;
    const attempt = msg.info.deliveryCount;
    // A work item is its body: headers that cannot be read only lose its trace and id hint.
    const headers = headersOrNone(msg);
    // Checked as the dispatcher checks it: a dead letter or event naming no valid job id would be
    // refused downstream, and the message would vanish with its `term`.
    const headerJobId = JobId.safeParse(headers?.get(Header.JobId)).data;
    this.#keepLease();
    try {
      await tracing.consume(
        headers,
        { subject: msg.subject, jobId: headerJobId, jobType: settings.type, attempt },
        async (trace) => {
          const record: DeliveryRecord = {
            msg,
            type: settings.type,
            attempt,
            uncounted: 0,
            unstarted: 0,
            workItem: undefined,
            jobId: headerJobId,
            run: 1,
            trace,
            traceId: tracing.traceIdOf(trace),
            workerId: this.#deps.workerId,
            startedAt: undefined,
            handlerEndedAt: undefined,
          };
          const outcome = await this.#decide(record);
          this.#handlerDone.resolve(undefined);
          // Returned, not thrown: without this the attempt's span shows success (an invalid
          // payload, too many deliveries).
          if (outcome.kind === "dead" || outcome.kind === "retry") {
            tracing.markFailed(trace, `${outcome.kind}: ${outcome.error.message}`);
          }
          const applied = await settle(outcome, record, {
            ...this.#deps,
            stopping: this.#stopping.signal,
          });
          this.#report(record, applied);
        },
      );
    } catch (err) {
      // Only a bug gets here; the job goes back rather than being lost.
      logger.error({ err, subject: msg.subject, seq: msg.seq }, "delivery failed unexpectedly");
      try {
        msg.nak(unrecordedRetryDelayMs);
      } catch (nakErr) {
        // The connection is closed: the server delivers the job again once its lease runs out.
        logger.warn(
          { err: nakErr, subject: msg.subject, seq: msg.seq },
          "could not hand the job back",
        );
      }
    } finally {
      clearInterval(this.#leaseKeeper);
      this.#handlerDone.resolve(undefined);
      this.#unsubscribe?.();
    }
  }

  #report(record: DeliveryRecord, outcome: AppliedOutcome): void {
    const { onAttemptEnd, settings, logger } = this.#deps;
    if (onAttemptEnd === undefined) return;
    try {
      onAttemptEnd({
        type: settings.type,
        outcome,
        durationMs: handlerDurationMs(record),
        rateLimitedMs: this.#rateLimitedMs,
      });
    } catch (err) {
      logger.warn({ err }, "onAttemptEnd threw; ignored");
    }
  }

  /**
   * Renews the job's lease every `heartbeatMs` from the delivery until it is settled: while the
   * handler runs, and while its outcome is stored, which may take longer than the lease has left
   * (a slow stream: each try waits up to the publish timeout, and a dead job's letter and event
   * are tried four times each): the job would be delivered again, and run again, while this
   * replica still records it. One interval for the whole delivery, so no renewal is late when the
   * handler ends between two.
   */
  #keepLease(): void {
    this.#leaseKeeper ??= setInterval(() => {
      if (!this.#renewLease()) clearInterval(this.#leaseKeeper);
    }, this.#deps.heartbeatMs);
  }

  /**
   * Renews the job's lease; false when it cannot be: nats.js throws once the connection is closed
   * or draining, and no renewal can reach the server any more. The job runs on (a throw from a
   * timer would end the process, one into a handler fail the job); if its lease runs out, the
   * server delivers it again.
   */
  #renewLease(): boolean {
    try {
      this.#msg.working();
      return true;
    } catch (err) {
      const { subject, seq } = this.#msg;
      this.#deps.logger.warn({ err, subject, seq }, "could not renew the job's lease");
      return false;
    }
  }

  async #decide(record: DeliveryRecord): Promise<Outcome> {
    const { settings } = this.#deps;
    const read = readWorkItem(this.#msg.data, settings.type);
    if (!read.ok) {
      record.jobId = read.identity.jobId ?? record.jobId;
      record.run = read.identity.run ?? 1;
      return decideOutcome({ ok: false, error: read.error }, this.#facts(record.attempt));
    }
    const item = read.item;
    record.workItem = item;
    record.jobId = item.id;
    record.run = item.run;
    // Listen before looking, so no cancel can slip between the two (both run synchronously).
    const { cancellations } = this.#deps;
    this.#unsubscribe = cancellations.subscribe(item, (cancel) => {
      this.cancel(cancel);
    });
    const cancelled = cancellations.find(item);
    if (cancelled) return { kind: "cancelled", reason: cancelled.reason };
    // Only a job delivered before can have had a delivery cut short: a first costs no read.
    if (record.attempt > 1) {
      const cutShort = await this.#cutShortBefore(item.id, item.run);
      record.uncounted = cutShort.uncounted;
      record.unstarted = cutShort.unstarted;
    }
    // At most maxAttempts stops of a running handler are forgiven, so that a job whose own run
    // gets its worker stopped (a memory limit, a failed liveness probe) still comes to an end;
    // every stop of a job that had not started (waiting for its rate limit) is.
    const stoppedRunning = record.uncounted - record.unstarted;
    const forgiven = Math.min(stoppedRunning, item.maxAttempts) + record.unstarted;
    const counted = record.attempt - forgiven;
    const exceeded = exceededDeliveries(counted, item.maxAttempts, record.attempt);
    if (exceeded) return exceeded;
    const facts = this.#facts(item.maxAttempts, item.retry, counted);
    let payload = parsePayload(settings.schema, item.payload);
    // Only a schema with async checks answers with a promise; the others cost no extra turn. Those
    // checks are user code like the handler, guarded alike: the job's timeout, a stop, a cancel.
    if (payload instanceof Promise) {
      const checked = payload;
      const settled = await runHandler(() => checked, this.#guard(item.timeoutMs));
      if (!settled.ok) return decideOutcome(settled, facts);
      // A cancel waits for the check to settle; whatever it found then, the attempt is cancelled.
      const { signal } = this.#controller;
      if (signal.aborted) return decideOutcome({ ok: false, error: signal.reason }, facts);
      payload = settled.result as ParsedPayload;
    }
    if (!payload.ok)
      return decideOutcome({ ok: false, error: this.#refusal(payload.error) }, facts);

    // Every slot taken (this job, of a higher priority, came while they were): it waits for the
    // next free one, holding its lease.
    const slot = this.#slot;
    if (slot !== undefined && !slot.tryTake()) {
      const stopped = await this.#waitToStart(record, facts, (signal) => slot.take(signal));
      if (stopped !== undefined) return stopped;
    }
    // A rate limit holds the job, and its slot, until its start is counted.
    const { rateLimiter } = this.#deps;
    if (rateLimiter !== undefined) {
      const waitStarted = performance.now();
      const stopped = await this.#waitToStart(record, facts, (signal) => rateLimiter.take(signal));
      this.#rateLimitedMs = performance.now() - waitStarted;
      if (stopped !== undefined) return stopped;
    }

    // The handler does not wait for the `started` event to be stored; the outcome's event does,
    // so the job's record never shows an outcome without the start before it. A handler that is
    // done before the event has left (within this turn of the event loop) needs none when its
    // outcome event carries the start time, which spares the stream a message per job.
    record.startedAt = Date.now();
    const started = this.#announceStart(record, record.startedAt);
    const settled = await this.#runHandler(record, { ...item, payload: payload.payload });
    record.handlerEndedAt = Date.now();
    this.#handlerDone.resolve(undefined);
    const outcome = decideOutcome(settled, facts);
    // Only `succeeded` and `failed` events carry the start time.
    if (outcome.kind === "succeeded" || outcome.kind === "retry") started.withdraw();
    await started.stored;
    return outcome;
  }

  /**
   * Waits for what the job's start waits for; a stop or a cancel while it waits ends the attempt
   * as either would end its handler: resolves with that outcome, or undefined once the job may
   * start. The wait is no part of the attempt's timeout, which a payload's async check may have
   * begun.
   */
  async #waitToStart(
    record: DeliveryRecord,
    facts: AttemptFacts,
    wait: (signal: AbortSignal) => Promise<void>,
  ): Promise<Outcome | undefined> {
    const { signal } = this.#controller;
    const waitStarted = performance.now();
    this.#waitingToStart = true;
    // A worker stopping returns the jobs that wait rather than let them start late.
    if (this.#startNoMore) this.interrupt();
    try {
      signal.throwIfAborted();
      await wait(signal);
      // A stop or a cancel may come between the end of the wait and this turn: honoured all the
      // same, before the handler starts.
      signal.throwIfAborted();
      return undefined;
    } catch (err) {
      if (!signal.aborted) throw err;
      record.stoppedWaiting = signal.reason instanceof WorkerStoppedError;
      return decideOutcome({ ok: false, error: signal.reason }, facts);
    } finally {
      this.#waitingToStart = false;
      if (this.#deadline !== undefined) this.#deadline += performance.now() - waitStarted;
    }
  }

  /**
   * Why the payload is refused. While a newer declaration of the type is in force (a rolling
   * deploy, or a rollback that left it), the payload may be one that declaration accepts and this
   * worker's older schema does not: the job is retried, so that a replica with the newer
   * declaration may take it, instead of dead-lettered for what the system accepted.
   */
  #refusal(error: InvalidPayloadError): JobFailure {
    const { settings, versionInForce, logger } = this.#deps;
    const own = settings.version ?? 0;
    const inForce = versionInForce?.();
    if (inForce === undefined || inForce <= own) return error;
    logger.warn(
      { type: settings.type, version: own, versionInForce: inForce },
      "payload refused by this worker's older declaration of its type; the job is retried",
    );
    return new OutdatedDeclarationError(own, inForce, error);
  }

  /**
   * How a handler, or a payload's async checks, are bounded: timeout, stop, cancel. The timeout
   * counts from the first guarded call, so the check and the handler share it.
   */
  #guard(timeoutMs: number): HandlerGuard {
    this.#deadline ??= Date.now() + timeoutMs;
    const { signal } = this.#abandon;
    return { controller: this.#controller, abandon: signal, timeoutMs, deadline: this.#deadline };
  }

  /**
   * Earlier deliveries of the run not counted as attempts; none when they cannot be read (every
   * delivery then counts, as a crash's does: the job may die an attempt early, never run on).
   */
  async #cutShortBefore(jobId: string, run: number): Promise<CutShort> {
    const { uncountedDeliveries, logger } = this.#deps;
    if (uncountedDeliveries === undefined) return { uncounted: 0, unstarted: 0 };
    try {
      const read = await uncountedDeliveries(jobId, run);
      // Never more than the deliveries before this one, whatever a stored event says.
      const uncounted = Math.min(Math.max(0, read.uncounted), this.#msg.info.deliveryCount - 1);
      return { uncounted, unstarted: Math.min(Math.max(0, read.unstarted), uncounted) };
    } catch (err) {
      logger.warn(
        { err, jobId },
        "could not read the job's deliveries cut short by a stop; counting every delivery",
      );
      return { uncounted: 0, unstarted: 0 };
    }
  }

  #facts(
    maxAttempts: number,
    retry?: RetryOverride,
    attempt = this.#msg.info.deliveryCount,
  ): AttemptFacts {
    return {
      attempt,
      finalDelivery: this.#msg.info.deliveryCount >= workMaxDeliverCap,
      maxAttempts,
      policy: effectivePolicy(this.#deps.settings.retry, retry),
    };
  }

  async #runHandler(record: DeliveryRecord, job: Job): Promise<Settled> {
    const { settings, tracing, logger, progressIntervalMs } = this.#deps;
    const jobId = job.id;
    // Most handlers never log: the child logger is made on first use, by the context.
    const jobLog = (): Logger => ctx.log;
    const reporter = new ProgressReporter(
      (report) => this.#publishProgress(record, report, jobLog),
      progressIntervalMs,
    );
    const heartbeat = () => {
      this.#renewLease();
    };
    const ctx = new DeliveryContext({
      jobId,
      type: job.type,
      attempt: record.attempt,
      maxAttempts: job.maxAttempts,
      traceId: record.traceId,
      workerId: this.#deps.workerId,
      signal: this.#controller.signal,
      makeLogger: () =>
        logger.child({ jobId, type: job.type, attempt: record.attempt, traceId: record.traceId }),
      progress: (done, total, message) => reporter.report(done, total, message),
      heartbeat,
    });
    const guard = this.#guard(job.timeoutMs);
    try {
      // The handler gets its own span so that a failed attempt shows as an error in the trace.
      const result = await tracing.internal(
        record.trace,
        `handle ${job.type}`,
        { "conveyor.job.id": jobId, "conveyor.job.attempt": record.attempt },
        async (handling) => {
          // The handler's own spans and submissions join the job's trace, under this span.
          const settled = await runHandler(
            () => tracing.withActive(handling, () => settings.handle(job, ctx)),
            guard,
          );
          if (!settled.ok) throw settled.error;
          return settled.result;
        },
      );
      return { ok: true, result };
    } catch (error) {
      return { ok: false, error };
    } finally {
      reporter.close();
    }
  }

  /**
   * Publishes the `started` event at the end of this turn, unless withdrawn by then (it is built
   * only if it is sent); `stored` never rejects (a failure is logged).
   */
  #announceStart(
    record: DeliveryRecord,
    startedAt: number,
  ): { stored: Promise<void>; withdraw(): boolean } {
    const { jobId } = record;
    if (jobId === undefined) return { stored: Promise.resolve(), withdraw: () => false };
    const { workerId } = this.#deps;
    const started = this.#deps.publisher.withdrawableEvent(
      () => this.#event(record, jobId, { kind: LifecycleKind.Started, workerId }, startedAt),
      record.trace,
    );
    return {
      stored: started.stored.catch((err: unknown) => {
        // The outcome's event still records the attempt; running the job matters more.
        this.#deps.logger.warn({ err, jobId: record.jobId }, "could not publish the started event");
      }),
      withdraw: () => started.withdraw(),
    };
  }

  async #publishProgress(
    record: DeliveryRecord,
    report: ProgressReport,
    log: () => Logger,
  ): Promise<void> {
    try {
      await this.#publish(record, { kind: LifecycleKind.Progress, ...report });
    } catch (err) {
      log().warn({ err }, "could not publish progress");
    }
  }

  #publish(record: DeliveryRecord, fields: { kind: "progress" } & ProgressReport): Promise<void> {
    if (record.jobId === undefined) return Promise.resolve();
    return this.#deps.publisher.event(this.#event(record, record.jobId, fields), record.trace);
  }

  #event(
    record: DeliveryRecord,
    jobId: string,
    fields: { kind: "started"; workerId: string } | ({ kind: "progress" } & ProgressReport),
    at: number = Date.now(),
  ): JobEvent {
    return {
      jobId,
      type: record.type,
      at: new Date(at).toISOString(),
      run: record.run,
      attempt: record.attempt,
      traceId: record.traceId,
      ...fields,
    };
  }
}
