import { setTimeout as sleep } from "node:timers/promises";

import { Header } from "@conveyor/contracts";
import { headersOrNone } from "@conveyor/service-kit";
import type { HeaderCarrier, SpanAttributes } from "@conveyor/telemetry";
import { JetStreamApiCodes, JetStreamApiError } from "@nats-io/jetstream";
import type { Consumer, ConsumerMessages, JsMsg } from "@nats-io/jetstream";

import { batches } from "./batches.ts";
import type { ProjectorDeps } from "./deps.ts";
import { ConsumerGoneError } from "./errors.ts";
import { HeldMessages, beyondHoldLimits } from "./held-messages.ts";
import type { HoldLimits } from "./held-messages.ts";
import type { ResolvedProjectorOptions } from "./options.ts";
import type { HoldKind, MayDefer, PreparedBatch, Projection, StoreResult } from "./projection.ts";
import { retryUntilAborted } from "./retry.ts";
import { isTransientStoreError } from "./store-errors.ts";

/** The durable consumer a loop reads. */
export interface Mailbox {
  consumer: Consumer;
  /** The consumer's durable name. */
  name: string;
  /** How often the messages of a batch being stored are kept leased (`working()`), in milliseconds. */
  leaseRenewMs: number;
}

/** Delay before consuming again after the subscription failed, in milliseconds. */
const resubscribeDelayMs = 1000;

/**
 * One mailbox loop of the projector: one batch at a time, from pull to acknowledgement. What the
 * messages mean and where they are stored is the {@link Projection}'s business.
 */
export class ProjectorLoop {
  readonly #projection: Projection;
  readonly #consumer: Consumer;
  readonly #consumerName: string;
  readonly #deps: ProjectorDeps;
  readonly #options: ResolvedProjectorOptions;
  readonly #leaseRenewMs: number;
  readonly #abort = new AbortController();
  readonly #quietLogger: ProjectorDeps["logger"];
  #messages: ConsumerMessages | undefined;

  constructor(
    projection: Projection,
    mailbox: Mailbox,
    deps: ProjectorDeps,
    options: ResolvedProjectorOptions,
  ) {
    this.#projection = projection;
    this.#consumer = mailbox.consumer;
    this.#consumerName = mailbox.name;
    this.#deps = deps;
    this.#options = options;
    this.#leaseRenewMs = mailbox.leaseRenewMs;
    this.#quietLogger = deps.logger.child({}, { level: "silent" });
  }

  /**
   * Consumes until stopped; a failed subscription is logged and started again.
   *
   * @throws {ConsumerGoneError} when the durable consumer (or its stream) no longer exists: nothing
   *   would ever be delivered again, and only provisioning can bring it back.
   */
  async run(): Promise<void> {
    const signal = this.#abort.signal;
    while (!signal.aborted) {
      try {
        await this.#consume();
      } catch (err) {
        if (signal.aborted) break;
        await this.#throwIfConsumerGone(err);
        this.#deps.logger.error(
          { err, stream: this.#projection.stream },
          `consuming ${this.#projection.label} failed, subscribing again`,
        );
      }
      if (signal.aborted) break;
      await sleep(resubscribeDelayMs, undefined, { signal }).catch(() => undefined);
    }
  }

  stop(): void {
    this.#abort.abort(new Error("projector stopping"));
    this.#messages?.stop();
  }

  async #consume(): Promise<void> {
    const {
      batchSize,
      batchMaxBytes,
      batchLingerMs,
      deferMs,
      newJobDeferMs,
      deferLimit,
      deferMaxBytes,
    } = this.#options;
    const limits: HoldLimits = { messages: deferLimit, bytes: deferMaxBytes };
    const holdMs: Record<HoldKind, number> = { new: newJobDeferMs, known: deferMs };
    // A deleted consumer or stream ends the subscription with an error instead of going quiet.
    const messages = await this.#consumer.consume({
      max_messages: batchSize,
      abort_on_missing_resource: true,
    });
    this.#messages = messages;
    // Messages a batch deferred, with when each is due: they go with a later batch, at the latest
    // then, even if nothing else arrives. A message's due time is set when it is first held.
    const held = new HeldMessages<JsMsg>((msg) => msg.seq, heldBytes);
    const { holdKey } = this.#projection;
    try {
      if (this.#abort.signal.aborted) return;
      const source = batches(messages, batchSize, batchLingerMs, {
        max: batchMaxBytes,
        sizeOf: (msg) => msg.data.byteLength,
      });
      let next = pending(source.next());
      for (;;) {
        const fresh = held.size === 0 ? await next : await raceLinger(next, held.msUntilDue());
        if (fresh !== undefined) next = pending(source.next());
        if (fresh?.done === true && held.size === 0) return;
        const batch = fresh === undefined || fresh.done === true ? [] : fresh.value;
        // Monotonic: a wall clock stepped back would keep held messages from coming due.
        const now = performance.now();
        // What comes due within a linger goes now, so that deferred messages leave in groups.
        const dueBy = now + batchLingerMs;
        // Held messages never exceed the limits, so only fresh ones can: those go at once.
        const overLimit = beyondHoldLimits(batch, held, limits, heldBytes);
        // A held job that gets no new message and is not due would only be held again.
        const released =
          holdKey === undefined
            ? new Map<JsMsg, number>()
            : held.release(batch.map(holdKey), dueBy);
        const dueAt = new Map<JsMsg, number>();
        const mayDefer: MayDefer = (msg, hold) => {
          if (holdKey === undefined || overLimit.has(msg)) return false;
          const due = released.get(msg) ?? now + holdMs[hold];
          dueAt.set(msg, due);
          return due > dueBy;
        };
        const deferred = await this.#handle([...released.keys(), ...batch], mayDefer, held);
        if (holdKey !== undefined) {
          for (const msg of deferred) held.add(msg, holdKey(msg), dueAt.get(msg) ?? now);
        }
        if (fresh?.done === true) return;
      }
    } finally {
      // What is still held goes back to the stream.
      for (const msg of held) msg.nak();
      // Messages of an abandoned subscription are redelivered to the next one after the ack wait.
      messages.stop();
    }
  }

  /** Asks the server whether the consumer still exists, once consuming has failed with `cause`. */
  async #throwIfConsumerGone(cause: unknown): Promise<void> {
    try {
      await this.#consumer.info();
    } catch (err) {
      const missing =
        err instanceof JetStreamApiError &&
        (err.code === JetStreamApiCodes.ConsumerNotFound ||
          err.code === JetStreamApiCodes.StreamNotFound);
      if (missing) {
        throw new ConsumerGoneError(this.#projection.stream, this.#consumerName, { cause });
      }
    }
  }

  /**
   * Projects a batch and acknowledges it, except the messages the projection deferred (only those
   * `mayDefer` allows), which are returned to go with a later batch. The `held` messages stay
   * leased while the batch is stored.
   */
  async #handle(batch: JsMsg[], mayDefer: MayDefer, held: HeldMessages<JsMsg>): Promise<JsMsg[]> {
    const { logger, tracing } = this.#deps;
    const prepared = this.#projection.prepare(batch, logger, mayDefer);
    const deferred = new Set(prepared.deferred);
    const due = deferred.size === 0 ? batch : batch.filter((msg) => !deferred.has(msg));
    let result: StoreResult;
    try {
      const store = () => this.#store(due, prepared, [batch, held]);
      // A batch whose every message is held back processes none: a span would be a trace of its
      // own, apart from every job's.
      result =
        due.length === 0
          ? await store()
          : await tracing.consumeBatch(due, headersOf, messageAttrs, prepared.span, store);
    } catch (err) {
      // Stopped while MongoDB was down: hand the batch back now rather than after the ack wait.
      for (const msg of batch) msg.nak();
      throw err;
    }
    for (const refused of result.refused) {
      logger.error(
        { ...refused, stream: this.#projection.stream },
        "document could not be stored, its messages are skipped",
      );
    }
    for (const msg of due) msg.ack();
    logger.debug(
      {
        stream: this.#projection.stream,
        messages: due.length,
        deferred: deferred.size,
        written: result.written,
      },
      "batch projected",
    );
    return prepared.deferred.slice();
  }

  /**
   * Stores the `batch` messages that `prepared` holds, retrying while MongoDB is unavailable and
   * keeping the `leased` messages (the batch, those it defers and those held) leased. When the batch fails for a
   * reason that is not transient, its messages are stored one by one, so that only a message that
   * cannot be stored on its own is skipped.
   */
  async #store(
    batch: readonly JsMsg[],
    prepared: PreparedBatch,
    leased: readonly Iterable<JsMsg>[],
  ): Promise<StoreResult> {
    const renew = setInterval(() => {
      for (const group of leased) for (const msg of group) msg.working();
    }, this.#leaseRenewMs);
    try {
      try {
        return await this.#storeWithRetries(prepared);
      } catch (err) {
        if (this.#abort.signal.aborted) throw err;
        const [only] = batch;
        if (batch.length === 1 && only !== undefined) return this.#skip(only, err);
      }
      const results: StoreResult[] = [];
      for (const msg of batch) {
        // Invalid messages were reported when the whole batch was decoded.
        const alone = this.#projection.prepare([msg], this.#quietLogger);
        try {
          results.push(await this.#storeWithRetries(alone));
        } catch (err) {
          if (this.#abort.signal.aborted) throw err;
          results.push(this.#skip(msg, err));
        }
      }
      return combineResults(results);
    } finally {
      clearInterval(renew);
    }
  }

  /** Reports a message that cannot be stored even on its own, so that it no longer blocks the rest. */
  #skip(msg: JsMsg, err: unknown): StoreResult {
    this.#deps.logger.error(
      { err, stream: this.#projection.stream, subject: msg.subject, streamSeq: msg.seq },
      `${this.#projection.label} message could not be stored, it is skipped`,
    );
    return { written: {}, refused: [] };
  }

  #storeWithRetries(prepared: PreparedBatch): Promise<StoreResult> {
    return retryUntilAborted((attemptSignal) => prepared.store(this.#deps.db, attemptSignal), {
      initialDelayMs: this.#options.retryInitialDelayMs,
      maxDelayMs: this.#options.retryMaxDelayMs,
      attemptTimeoutMs: this.#options.storeTimeoutMs,
      isTransient: isTransientStoreError,
      signal: this.#abort.signal,
      onError: (err, attempt, delayMs) => {
        this.#deps.logger.warn(
          { err, attempt, delayMs, stream: this.#projection.stream },
          "storing a batch failed, retrying",
        );
      },
    });
  }
}

function headersOf(msg: JsMsg): HeaderCarrier | undefined {
  // An event is its body: headers that cannot be read only lose its trace.
  return headersOrNone(msg);
}

/** What a message's own span in its job's trace says of it (read only when spans are exported). */
function messageAttrs(msg: JsMsg): SpanAttributes {
  const headers = headersOrNone(msg);
  return {
    subject: msg.subject,
    jobId: headers?.get(Header.JobId) || undefined,
    jobType: headers?.get(Header.JobType) || undefined,
  };
}

/**
 * What a held message takes in memory: its body, counted twice (the message and the event decoded
 * from it, kept for when it is projected).
 */
function heldBytes(msg: JsMsg): number {
  return 2 * msg.data.byteLength;
}

const lingerExpired = Symbol("linger expired");

/** The next batch, or `undefined` when none arrived within `lingerMs`. */
async function raceLinger<T>(next: Promise<T>, lingerMs: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<typeof lingerExpired>((resolve) => {
    timer = setTimeout(() => {
      resolve(lingerExpired);
    }, lingerMs);
  });
  try {
    const first = await Promise.race([next, expired]);
    return first === lingerExpired ? undefined : first;
  } finally {
    clearTimeout(timer);
  }
}

function combineResults(results: readonly StoreResult[]): StoreResult {
  const written: Record<string, number> = {};
  for (const result of results) {
    for (const [name, count] of Object.entries(result.written)) {
      written[name] = (written[name] ?? 0) + count;
    }
  }
  return { written, refused: results.flatMap((result) => result.refused) };
}

/**
 * The request for the next batch is made before the current batch is stored, and awaited only
 * after. A subscription that fails meanwhile (its consumer deleted while MongoDB is down) must not
 * be an unhandled rejection, which ends the process: it is seen, and handled, when awaited.
 */
function pending<T>(request: Promise<T>): Promise<T> {
  request.catch(() => undefined);
  return request;
}
