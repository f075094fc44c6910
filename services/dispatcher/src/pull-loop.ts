import type { Logger } from "@conveyor/service-kit";
import type { Consumer, ConsumerMessages, JsMsg } from "@nats-io/jetstream";

export interface PullLoopOptions {
  /** Messages handled at once. */
  concurrency: number;
  /** How long one pull waits for messages, in milliseconds; also bounds how long `stop` waits for it. @default 1000 */
  pullExpiresMs?: number;
  /** Pause after a failed pull (NATS away, consumer missing), in milliseconds. @default 1000 */
  retryPauseMs?: number;
}

/**
 * Pulls messages from a durable consumer and runs `handle` on up to `concurrency` of them at once.
 * It pulls only as many as it has free slots, so nothing waits in a client-side buffer while its
 * `ack_wait` runs out, and `stop` can finish every message it was given.
 */
export class PullLoop {
  readonly #consumer: Consumer;
  readonly #handle: (msg: JsMsg) => Promise<void>;
  readonly #logger: Logger;
  readonly #concurrency: number;
  readonly #pullExpiresMs: number;
  readonly #retryPauseMs: number;
  readonly #inflight = new Set<Promise<void>>();
  readonly #stopped: AbortController = new AbortController();
  #running: Promise<void> | undefined;

  constructor(
    consumer: Consumer,
    handle: (msg: JsMsg) => Promise<void>,
    logger: Logger,
    options: PullLoopOptions,
  ) {
    this.#consumer = consumer;
    this.#handle = handle;
    this.#logger = logger;
    this.#concurrency = Math.max(1, options.concurrency);
    this.#pullExpiresMs = options.pullExpiresMs ?? 1000;
    this.#retryPauseMs = options.retryPauseMs ?? 1000;
  }

  start(): void {
    this.#running ??= this.#run();
  }

  /** Stops pulling, lets the current pull end, and resolves when every message it got is handled. */
  async stop(): Promise<void> {
    this.#stopped.abort();
    await this.#running;
  }

  async #run(): Promise<void> {
    // Pull again only once half the slots are free, so a busy loop fetches in batches, not singly.
    const lowWater = Math.ceil(this.#concurrency / 2);
    while (!this.#stopped.signal.aborted) {
      const free = this.#concurrency - this.#inflight.size;
      if (free < lowWater) {
        await Promise.race(this.#inflight);
        continue;
      }
      try {
        const batch: ConsumerMessages = await this.#consumer.fetch({
          max_messages: free,
          expires: this.#pullExpiresMs,
        });
        for await (const msg of batch) this.#track(msg);
      } catch (err) {
        if (this.#stopped.signal.aborted) break;
        this.#logger.warn({ err }, "pull failed; retrying");
        await pause(this.#retryPauseMs, this.#stopped.signal);
      }
    }
    await Promise.all(this.#inflight);
  }

  #track(msg: JsMsg): void {
    const done: Promise<void> = this.#handle(msg)
      .catch((err: unknown) => {
        this.#logger.error({ err, subject: msg.subject, seq: msg.seq }, "message handler threw");
      })
      .finally(() => this.#inflight.delete(done));
    this.#inflight.add(done);
  }
}

function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener(
      "abort",
      () => {
        clearTimeout(timer);
        resolve();
      },
      { once: true },
    );
  });
}
