import { setTimeout as sleep } from "node:timers/promises";

import type { Logger } from "@conveyor/service-kit";
import type { Consumer, JsMsg } from "@nats-io/jetstream";

import { Delivery } from "./delivery.ts";
import type { DeliveryDeps } from "./delivery.ts";

/** How a {@link TypeConsumer} pulls. */
export interface PullSettings {
  /** Handlers running at once. */
  concurrency: number;
  /** Longest one pull request waits for work, in milliseconds. */
  pullExpiresMs: number;
}

/** A delivery being processed, and its end. */
interface Running {
  delivery: Delivery;
  done: Promise<void>;
}

const retryPullAfterMs = { first: 500, max: 10_000 } as const;

/** Longest a free slot waits for others before pulling, while work is waiting, in milliseconds. */
const gatherSlotsMs = 2;

/**
 * Pulls one job type's work consumer and runs at most `concurrency` handlers at once. It asks the
 * server only for as many messages as it has free slots, so every message it holds is started at
 * once and no lease ticks on a message waiting in a local buffer.
 */
export class TypeConsumer {
  readonly #consumer: Consumer;
  readonly #deps: DeliveryDeps;
  readonly #settings: PullSettings;
  readonly #logger: Logger;
  readonly #inFlight = new Set<Running>();
  readonly #stopPulling = new AbortController();
  #slotFreed = Promise.withResolvers<undefined>();
  #loop: Promise<void> = Promise.resolve();

  constructor(consumer: Consumer, deps: DeliveryDeps, settings: PullSettings) {
    this.#consumer = consumer;
    this.#deps = deps;
    this.#settings = settings;
    this.#logger = deps.logger.child({ type: deps.settings.type });
  }

  /** Handlers running now. */
  get inFlight(): number {
    return this.#inFlight.size;
  }

  start(): void {
    this.#loop = this.#pullLoop();
  }

  /**
   * Stops asking for work. A pull already open runs until it expires, and what it still delivers
   * is run like any other job: returning it (`nak`) would only hand it back to that same pull and
   * spend its attempts.
   */
  stopPulling(): void {
    this.#stopPulling.abort();
    this.#slotFreed.resolve(undefined);
  }

  /** Resolves when the last pull has ended; no message arrives after that. */
  pullingStopped(): Promise<void> {
    return this.#loop;
  }

  /** Resolves when pulling has stopped and every running handler's job is settled. */
  async finished(): Promise<void> {
    await this.#loop;
    while (this.#inFlight.size > 0) {
      await Promise.all([...this.#inFlight].map((running) => running.done));
    }
  }

  /** Aborts every running handler; their jobs go back to the queue. Call after {@link pullingStopped}. */
  interrupt(): void {
    for (const running of this.#inFlight) running.delivery.interrupt();
  }

  async #pullLoop(): Promise<void> {
    const stopped = this.#stopPulling.signal;
    let failures = 0;
    let backlogged = false;
    while (!stopped.aborted) {
      const free = this.#settings.concurrency - this.#inFlight.size;
      if (free <= 0) {
        await this.#nextSlotFreed();
        continue;
      }
      if (backlogged) await this.#gatherFreeSlots();
      try {
        const wanted = this.#settings.concurrency - this.#inFlight.size;
        const messages = await this.#consumer.fetch({
          max_messages: wanted,
          expires: this.#settings.pullExpiresMs,
        });
        let received = 0;
        for await (const msg of messages) {
          received++;
          this.#start(msg);
        }
        const error = await messages.closed();
        if (error) throw error;
        // A pull that came back full says more work is waiting.
        backlogged = received >= wanted;
        failures = 0;
      } catch (err) {
        if (stopped.aborted) break;
        failures++;
        const delayMs = Math.min(
          retryPullAfterMs.max,
          retryPullAfterMs.first * 2 ** (failures - 1),
        );
        this.#logger.warn({ err, delayMs }, "pulling work failed; retrying");
        await sleep(delayMs, undefined, { signal: stopped }).catch(() => undefined);
      }
    }
  }

  /** Resolves when a running job is settled. */
  async #nextSlotFreed(): Promise<void> {
    await this.#slotFreed.promise;
    this.#slotFreed = Promise.withResolvers<undefined>();
  }

  /**
   * While work is waiting, gives finishing jobs up to {@link gatherSlotsMs} to free half the slots
   * before pulling, so that one pull brings many jobs rather than one pull per finished job: each
   * pull costs the client a subscription and the server a request. A slot stays empty for at most
   * that long.
   */
  async #gatherFreeSlots(): Promise<void> {
    const enough = Math.ceil(this.#settings.concurrency / 2);
    const free = () => this.#settings.concurrency - this.#inFlight.size;
    if (free() >= enough) return;
    let waited = false;
    const timer = setTimeout(() => {
      waited = true;
      this.#slotFreed.resolve(undefined);
    }, gatherSlotsMs);
    try {
      while (!waited && free() < enough && !this.#stopPulling.signal.aborted) {
        await this.#nextSlotFreed();
      }
    } finally {
      clearTimeout(timer);
    }
  }

  #start(msg: JsMsg): void {
    const delivery = new Delivery(msg, this.#deps);
    const running: Running = { delivery, done: Promise.resolve() };
    running.done = delivery.process().finally(() => {
      this.#inFlight.delete(running);
      this.#slotFreed.resolve(undefined);
    });
    this.#inFlight.add(running);
  }
}
