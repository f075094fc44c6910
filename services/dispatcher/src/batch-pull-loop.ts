import { ChurnTable } from "@conveyor/service-kit";
import type { Logger } from "@conveyor/service-kit";

import { pause } from "./pause.ts";

export interface BatchPullLoopOptions {
  /**
   * Most messages held at once: pulled and not yet settled by `handle`. The loop pulls again once
   * half of them are settled, so a busy consumer is read in pulls of at least half this many.
   */
  maxHeld: number;
  /** How long one pull waits for messages, in milliseconds; also bounds how long `stop` waits for it. @default 1000 */
  pullExpiresMs?: number;
  /** Pause after a failed pull (NATS away, consumer missing), in milliseconds. @default 1000 */
  retryPauseMs?: number;
}

/** What the loop needs of a durable pull consumer: a nats.js `Consumer` (of `JsMsg`) is one. */
export interface PullSource<M> {
  fetch(options: { max_messages: number; expires: number }): Promise<AsyncIterable<M>>;
}

/**
 * Settles a batch of messages (acknowledges or naks each). Resolves once every message of the
 * batch is settled; it should not reject (a rejection is logged, its messages are redelivered).
 */
export type BatchHandler<M> = (batch: M[]) => Promise<void>;

/**
 * Pulls messages from a durable consumer and hands them to `handle` in batches: the messages that
 * arrive in one turn of the event loop form one batch, so a batch is as large as the backlog allows
 * and a lone message is not kept waiting for company. It pulls only while fewer than `maxHeld` are
 * held, so nothing waits in a client-side buffer while its `ack_wait` runs out, and `stop` can
 * finish every message it was given.
 */
export class BatchPullLoop<M> {
  readonly #consumer: PullSource<M>;
  readonly #handle: BatchHandler<M>;
  readonly #logger: Logger;
  readonly #maxHeld: number;
  readonly #pullExpiresMs: number;
  readonly #retryPauseMs: number;
  readonly #stopped = new AbortController();
  /** Batches being handled; a `ChurnTable`, as every batch adds one and removes it. */
  readonly #inflight = new ChurnTable<Promise<void>>();
  /** Messages pulled in this turn of the event loop, not yet handed over. */
  #gathering: M[] = [];
  #held = 0;
  /** Resolves the wait for free room, when the loop waits for it. */
  #onRoom: (() => void) | undefined;
  #running: Promise<void> | undefined;

  constructor(
    consumer: PullSource<M>,
    handle: BatchHandler<M>,
    logger: Logger,
    options: BatchPullLoopOptions,
  ) {
    this.#consumer = consumer;
    this.#handle = handle;
    this.#logger = logger;
    this.#maxHeld = Math.max(1, options.maxHeld);
    this.#pullExpiresMs = options.pullExpiresMs ?? 1000;
    this.#retryPauseMs = options.retryPauseMs ?? 1000;
  }

  start(): void {
    this.#running ??= this.#run();
  }

  /** Stops pulling, lets the current pull end, and resolves when every message it got is settled. */
  async stop(): Promise<void> {
    this.#stopped.abort();
    this.#onRoom?.();
    await this.#running;
  }

  async #run(): Promise<void> {
    const lowWater = Math.ceil(this.#maxHeld / 2);
    while (!this.#stopped.signal.aborted) {
      const free = this.#maxHeld - this.#held;
      if (free < lowWater) {
        await new Promise<void>((resolve) => {
          this.#onRoom = resolve;
        });
        this.#onRoom = undefined;
        continue;
      }
      try {
        const messages = await this.#consumer.fetch({
          max_messages: free,
          expires: this.#pullExpiresMs,
        });
        for await (const msg of messages) this.#gather(msg);
      } catch (err) {
        if (this.#stopped.signal.aborted) break;
        this.#logger.warn({ err }, "pull failed; retrying");
        await pause(this.#retryPauseMs, this.#stopped.signal);
      }
    }
    this.#handOver();
    while (this.#inflight.size > 0) await Promise.all(this.#inflight.values());
  }

  #gather(msg: M): void {
    this.#held++;
    // Messages of one socket read are yielded in one run of microtasks; an immediate runs after
    // them, so it hands over everything that arrived together.
    if (this.#gathering.push(msg) === 1) setImmediate(this.#handOver);
  }

  readonly #handOver = (): void => {
    const batch = this.#gathering;
    if (batch.length === 0) return;
    this.#gathering = [];
    const done: Promise<void> = this.#handle(batch)
      .catch((err: unknown) => {
        this.#logger.error({ err, messages: batch.length }, "batch handler threw");
      })
      .finally(() => {
        this.#inflight.delete(key);
        this.#held -= batch.length;
        if (this.#maxHeld - this.#held >= Math.ceil(this.#maxHeld / 2)) this.#onRoom?.();
      });
    const key = this.#inflight.add(done);
  };
}
