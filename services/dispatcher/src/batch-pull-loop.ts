import { ChurnTable } from "@conveyor/service-kit";
import type { Logger } from "@conveyor/service-kit";

import { pause } from "./pause.ts";

export interface BatchPullLoopOptions<M = unknown> {
  /**
   * Most messages held at once: pulled and not yet settled by `handle`. The loop pulls again once
   * half of them are settled, so a busy consumer is read in pulls of at least half this many
   * (unless `bytes` allows fewer).
   */
  maxHeld: number;
  /** How long one pull waits for messages, in milliseconds; also bounds how long `stop` waits for it. @default 1000 */
  pullExpiresMs?: number;
  /** Pause after a failed pull (NATS away, consumer missing), in milliseconds. @default 1000 */
  retryPauseMs?: number;
  /**
   * Bounds the bytes held as well: the bytes of the messages held are counted as they arrive, and
   * a pull asks for no more messages than fit in what is left of `maxHeld` bytes at `perMessage`
   * bytes each (none while that is not one), so a burst of large messages cannot exhaust the heap.
   */
  bytes?: ByteBound<M>;
  /**
   * Hands each message over as a batch of its own, its room freed as soon as it is settled: for
   * mailboxes whose messages are separate pieces of work (commands, advisories), where one slow
   * message must not keep the loop from pulling while the rest of its batch is done. @default false
   */
  oneByOne?: boolean;
}

/** How {@link BatchPullLoop} bounds the bytes it holds. */
export interface ByteBound<M> {
  /** Most bytes of messages held at once. */
  maxHeld: number;
  /**
   * Bytes a pull reserves for each message it asks for: the most a message costs in full (one
   * that may be larger is cheaper to hold, such as a submission refused unread for its size).
   */
  perMessage: number;
  sizeOf: (msg: M) => number;
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
  /** Bytes of the messages being gathered (with `bytes` only). */
  #gatheringBytes = 0;
  #held = 0;
  readonly #bytes: ByteBound<M> | undefined;
  readonly #oneByOne: boolean;
  #heldBytes = 0;
  /** Resolves the wait for free room, when the loop waits for it. */
  #onRoom: (() => void) | undefined;
  #running: Promise<void> | undefined;

  constructor(
    consumer: PullSource<M>,
    handle: BatchHandler<M>,
    logger: Logger,
    options: BatchPullLoopOptions<M>,
  ) {
    this.#consumer = consumer;
    this.#handle = handle;
    this.#logger = logger;
    this.#maxHeld = Math.max(1, options.maxHeld);
    this.#pullExpiresMs = options.pullExpiresMs ?? 1000;
    this.#retryPauseMs = options.retryPauseMs ?? 1000;
    this.#bytes = options.bytes;
    this.#oneByOne = options.oneByOne ?? false;
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
    while (!this.#stopped.signal.aborted) {
      const free = this.#pullable();
      if (free === 0) {
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

  /**
   * How many messages the next pull may ask for: none until half of `maxHeld` is free (so a busy
   * consumer is read in pulls of at least half, unless the byte bound allows fewer), nor while the
   * bytes left cannot take one more message at `perMessage` bytes.
   */
  #pullable(): number {
    const free = this.#maxHeld - this.#held;
    if (free < Math.ceil(this.#maxHeld / 2)) return 0;
    if (this.#bytes === undefined) return free;
    const { maxHeld, perMessage } = this.#bytes;
    const fit = Math.max(0, Math.floor((maxHeld - this.#heldBytes) / Math.max(1, perMessage)));
    // Nothing held leaves room for one, whatever the bound: a message is never stuck.
    return Math.min(free, this.#heldBytes === 0 ? Math.max(1, fit) : fit);
  }

  #gather(msg: M): void {
    this.#held++;
    if (this.#bytes !== undefined) {
      const size = this.#bytes.sizeOf(msg);
      this.#heldBytes += size;
      this.#gatheringBytes += size;
    }
    // Messages of one socket read are yielded in one run of microtasks; an immediate runs after
    // them, so it hands over everything that arrived together.
    if (this.#gathering.push(msg) === 1) setImmediate(this.#handOver);
  }

  readonly #handOver = (): void => {
    const gathered = this.#gathering;
    if (gathered.length === 0) return;
    this.#gathering = [];
    const bytes = this.#gatheringBytes;
    this.#gatheringBytes = 0;
    if (!this.#oneByOne) {
      this.#settle(gathered, bytes);
      return;
    }
    const sizeOf = this.#bytes?.sizeOf;
    for (const msg of gathered) this.#settle([msg], sizeOf === undefined ? 0 : sizeOf(msg));
  };

  /** Hands one batch to the handler, and frees its room once it is settled. */
  #settle(batch: M[], bytes: number): void {
    const done: Promise<void> = this.#handle(batch)
      .catch((err: unknown) => {
        this.#logger.error({ err, messages: batch.length }, "batch handler threw");
      })
      .finally(() => {
        this.#inflight.delete(key);
        this.#held -= batch.length;
        this.#heldBytes -= bytes;
        if (this.#pullable() > 0) this.#onRoom?.();
      });
    const key = this.#inflight.add(done);
  }
}
