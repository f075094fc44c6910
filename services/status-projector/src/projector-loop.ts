import { setTimeout as sleep } from "node:timers/promises";

import type { Consumer, ConsumerMessages, JsMsg } from "@nats-io/jetstream";

import { batches } from "./batches.ts";
import type { ProjectorDeps } from "./deps.ts";
import type { ResolvedProjectorOptions } from "./options.ts";
import type { PreparedBatch, Projection, StoreResult } from "./projection.ts";
import { retryUntilAborted } from "./retry.ts";

/** Delay before consuming again after the subscription failed, in milliseconds. */
const resubscribeDelayMs = 1000;

/**
 * One mailbox loop of the projector: one batch at a time, from pull to acknowledgement. What the
 * messages mean and where they are stored is the {@link Projection}'s business.
 */
export class ProjectorLoop {
  readonly #projection: Projection;
  readonly #consumer: Consumer;
  readonly #deps: ProjectorDeps;
  readonly #options: ResolvedProjectorOptions;
  readonly #leaseRenewMs: number;
  readonly #abort = new AbortController();
  #messages: ConsumerMessages | undefined;

  constructor(
    projection: Projection,
    consumer: Consumer,
    deps: ProjectorDeps,
    options: ResolvedProjectorOptions,
    leaseRenewMs: number,
  ) {
    this.#projection = projection;
    this.#consumer = consumer;
    this.#deps = deps;
    this.#options = options;
    this.#leaseRenewMs = leaseRenewMs;
  }

  /** Consumes until stopped; a failed subscription is logged and started again. */
  async run(): Promise<void> {
    const signal = this.#abort.signal;
    while (!signal.aborted) {
      try {
        await this.#consume();
      } catch (err) {
        if (signal.aborted) break;
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
    const { batchSize, batchLingerMs } = this.#options;
    const messages = await this.#consumer.consume({ max_messages: batchSize });
    this.#messages = messages;
    try {
      if (this.#abort.signal.aborted) return;
      for await (const batch of batches(messages, batchSize, batchLingerMs)) {
        await this.#handle(batch);
      }
    } finally {
      // Messages of an abandoned subscription are redelivered to the next one after the ack wait.
      messages.stop();
    }
  }

  async #handle(batch: JsMsg[]): Promise<void> {
    const { logger, tracing } = this.#deps;
    const prepared = this.#projection.prepare(batch, logger);
    let result: StoreResult;
    try {
      result = await tracing.consume(batch[0]?.headers, prepared.span, () =>
        this.#store(batch, prepared),
      );
    } catch (err) {
      // Stopped while MongoDB was down: hand the batch back now rather than after the ack wait.
      for (const msg of batch) msg.nak();
      throw err;
    }
    for (const refused of result.refused) {
      logger.error(refused, "document could not be stored, its messages are skipped");
    }
    for (const msg of batch) msg.ack();
    logger.debug(
      { stream: this.#projection.stream, messages: batch.length, written: result.written },
      "batch projected",
    );
  }

  /** Stores a batch, retrying while MongoDB is unavailable and keeping the messages leased. */
  async #store(batch: readonly JsMsg[], prepared: PreparedBatch): Promise<StoreResult> {
    const renew = setInterval(() => {
      for (const msg of batch) msg.working();
    }, this.#leaseRenewMs);
    try {
      return await retryUntilAborted(() => prepared.store(this.#deps.db), {
        initialDelayMs: this.#options.retryInitialDelayMs,
        maxDelayMs: this.#options.retryMaxDelayMs,
        attemptTimeoutMs: this.#options.storeTimeoutMs,
        signal: this.#abort.signal,
        onError: (err, attempt, delayMs) => {
          this.#deps.logger.warn(
            { err, attempt, delayMs, stream: this.#projection.stream },
            "storing a batch failed, retrying",
          );
        },
      });
    } finally {
      clearInterval(renew);
    }
  }
}
