import { setTimeout as sleep } from "node:timers/promises";

import { ChurnTable } from "@conveyor/service-kit";
import type { Logger } from "@conveyor/service-kit";
import { JetStreamApiCodes, JetStreamApiError } from "@nats-io/jetstream";
import type { Consumer, JsMsg } from "@nats-io/jetstream";

import { Delivery } from "./delivery.ts";
import type { DeliveryDeps } from "./delivery.ts";

/** How a {@link TypeConsumer} pulls. */
export interface PullSettings {
  /** Handlers running at once. */
  concurrency: number;
  /** Longest one pull request waits for work, in milliseconds. */
  pullExpiresMs: number;
  /**
   * How many jobs beyond `concurrency` the consumer may hold while finished ones wait for their
   * outcome to be stored (the event's PubAck) before being acknowledged; at `concurrency` plus this
   * many it stops pulling. @default {@link defaultSettlingLimit}
   */
  settlingLimit?: number;
}

/**
 * Finished jobs that may wait for their outcome to be stored, by default. A handler's slot is
 * free as soon as it returns: were it held until JetStream confirms the outcome, `concurrency`
 * divided by that round trip would cap the worker (32 slots and a 20 ms PubAck under load: 1,600
 * jobs/s, whatever the handlers cost). Bounded, so a slow store stops the pulling, not the memory.
 */
export const defaultSettlingLimit = 256;

/** A delivery being processed: whether its handler is done, and its end. */
interface Running {
  delivery: Delivery;
  handling: boolean;
  done: Promise<void>;
}

const retryPullAfterMs = { first: 500, max: 10_000 } as const;

/** Longest a free slot waits for others before pulling, while work is waiting, in milliseconds. */
const gatherSlotsMs = 2;

/** One job type's queue: jobs waiting for a worker, and jobs delivered and not yet settled. */
export interface TypeBacklog {
  type: string;
  /** Jobs in `WORK` not delivered yet. */
  waiting: number;
  /**
   * Jobs delivered to some worker and not yet acknowledged: running, being recorded, or failed and
   * waiting out their retry delay (a delayed `nak` leaves a job unacknowledged until redelivered).
   */
  inFlight: number;
  /** Whether the type is paused (its work consumer's pause): no worker is handed its jobs. */
  paused: boolean;
}

/**
 * Pulls one job type's work consumer and runs at most `concurrency` handlers at once. It asks the
 * server only for as many messages as it has free slots, so every message it holds is started at
 * once and no lease ticks on a message waiting in a local buffer. A finished job keeps no slot
 * while its outcome is being stored (up to `settlingLimit` of them).
 */
export class TypeConsumer {
  #consumer: Consumer;
  readonly #reopen: (() => Promise<Consumer>) | undefined;
  readonly #deps: DeliveryDeps;
  readonly #settings: PullSettings;
  readonly #logger: Logger;
  /** Jobs in flight; a `ChurnTable`, as every job adds and removes one. */
  readonly #inFlight = new ChurnTable<Running>();
  readonly #settlingLimit: number;
  /** Deliveries whose handler has not returned yet. */
  #handling = 0;
  readonly #stopPulling = new AbortController();
  #slotFreed = Promise.withResolvers<undefined>();
  #loop: Promise<void> = Promise.resolve();

  /**
   * `reopen` creates the type's work consumer if it is missing and gets it, as the worker does at
   * start; it is called when the consumer is found gone after a pull failed.
   */
  constructor(
    consumer: Consumer,
    deps: DeliveryDeps,
    settings: PullSettings,
    reopen?: () => Promise<Consumer>,
  ) {
    this.#consumer = consumer;
    this.#reopen = reopen;
    this.#deps = deps;
    this.#settings = settings;
    this.#settlingLimit = Math.max(1, settings.settlingLimit ?? defaultSettlingLimit);
    this.#logger = deps.logger.child({ type: deps.settings.type });
  }

  /** Jobs held now: handlers running, and finished jobs whose outcome is being stored. */
  get inFlight(): number {
    return this.#inFlight.size;
  }

  /** The type's queue as its work consumer counts it, across every worker (asks the server). */
  async backlog(): Promise<TypeBacklog> {
    const info = await this.#consumer.info();
    return {
      type: this.#deps.settings.type,
      waiting: info.num_pending,
      inFlight: info.num_ack_pending,
      paused: info.paused === true,
    };
  }

  /** Messages this consumer can take now: free handler slots, within the settling limit. */
  #free(): number {
    const { concurrency } = this.#settings;
    const heldRoom = concurrency + this.#settlingLimit - this.#inFlight.size;
    return Math.min(concurrency - this.#handling, heldRoom);
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
      await Promise.all(this.#inFlight.values().map((running) => running.done));
    }
  }

  /**
   * Returns the jobs waiting for their rate limit (or coming to that wait) to the queue at once.
   * Call after {@link pullingStopped}.
   */
  startNoMore(): void {
    for (const running of this.#inFlight.values()) running.delivery.startNoMore();
  }

  /** Aborts every running handler; their jobs go back to the queue. Call after {@link pullingStopped}. */
  interrupt(): void {
    for (const running of this.#inFlight.values()) running.delivery.interrupt();
  }

  async #pullLoop(): Promise<void> {
    const stopped = this.#stopPulling.signal;
    let failures = 0;
    let backlogged = false;
    while (!stopped.aborted) {
      if (this.#free() <= 0) {
        await this.#nextSlotFreed();
        continue;
      }
      if (backlogged) {
        await this.#gatherFreeSlots();
        // Stopping wakes the gathering: no pull may open after that.
        if (stopped.aborted) break;
      }
      try {
        const wanted = this.#free();
        if (wanted <= 0) continue;
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
        if (await this.#reopenIfGone()) failures = 0;
        else await sleep(delayMs, undefined, { signal: stopped }).catch(() => undefined);
      }
    }
  }

  /**
   * After a failed pull: when the server says the work consumer, or `WORK` itself, no longer
   * exists (deleted, or JetStream's state lost and provisioned anew), creates it again, so that
   * the type's jobs run instead of waiting in `WORK` for a restart. Asked of the server, not read
   * from the pull's error, which is "no responders" for a missing consumer and for a server away
   * alike. Every replica whose pull failed reconciles the consumer so (when it is there too):
   * whichever created it first set its own lease, and one whose lease is longer raises it again,
   * as at start. Resolves with whether the consumer was gone and is there again.
   */
  async #reopenIfGone(): Promise<boolean> {
    if (this.#reopen === undefined) return false;
    let gone = false;
    try {
      await this.#consumer.info();
    } catch (err) {
      gone = isMissing(err);
      // The server away: nothing can be reconciled now.
      if (!gone) return false;
    }
    try {
      this.#consumer = await this.#reopen();
      if (gone) this.#logger.warn("the type's work consumer was gone; it is created again");
      return gone;
    } catch (err) {
      this.#logger.warn(
        { err },
        gone
          ? "the type's work consumer is gone and cannot be created yet (is WORK provisioned?)"
          : "the type's work consumer could not be reconciled after a failed pull",
      );
      return false;
    }
  }

  /** Resolves when a handler returns or a job is settled. */
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
    const free = () => this.#free();
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
    const running: Running = { delivery, handling: true, done: Promise.resolve() };
    const key = this.#inFlight.add(running);
    this.#handling++;
    const handlerReturned = () => {
      if (!running.handling) return;
      running.handling = false;
      this.#handling--;
      this.#slotFreed.resolve(undefined);
    };
    void delivery.handlerDone.then(handlerReturned);
    running.done = delivery.process().finally(() => {
      handlerReturned();
      this.#inFlight.delete(key);
      this.#slotFreed.resolve(undefined);
    });
  }
}

/** Whether a JetStream API error says the consumer or its stream does not exist. */
function isMissing(err: unknown): boolean {
  return (
    err instanceof JetStreamApiError &&
    (err.code === JetStreamApiCodes.ConsumerNotFound ||
      err.code === JetStreamApiCodes.StreamNotFound)
  );
}
