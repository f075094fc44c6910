import { setTimeout as sleep } from "node:timers/promises";

import { KvBucket } from "@conveyor/contracts";
import { updateByRevision } from "@conveyor/service-kit";
import type { Logger } from "@conveyor/service-kit";
import type { JetStreamClient } from "@nats-io/jetstream";
import type { KV } from "@nats-io/kv";
import { Kvm } from "@nats-io/kv";
import { z } from "zod";

/**
 * How many jobs of a type may start per window of time, across every worker: at most `max` in
 * each window of `perMs` milliseconds (windows follow one another from the epoch, on each
 * worker's clock).
 */
export const RateLimit = z.strictObject({
  max: z.int().min(1).max(100_000),
  /** From 100 ms to an hour (the `conveyor-rate-limits` bucket keeps a count two hours). */
  perMs: z.int().min(100).max(3_600_000),
});
export type RateLimit = z.infer<typeof RateLimit>;

/** Pause before asking again after the bucket failed to answer, in milliseconds. */
const retryAfterFailureMs = 500;

/**
 * Hands out the starts of one job type, at most `max` per window across all workers: each start
 * counts itself in the window's key of the `conveyor-rate-limits` bucket with a compare-and-set
 * write, and a job finding the window full waits for the next. One start at a time per process,
 * so that its own jobs do not race each other for the key.
 */
export class RateLimiter {
  readonly #kv: KV;
  readonly #type: string;
  readonly #limit: RateLimit;
  readonly #logger: Logger;
  #queue: Promise<unknown> = Promise.resolve();

  constructor(kv: KV, type: string, limit: RateLimit, logger: Logger) {
    this.#kv = kv;
    this.#type = type;
    this.#limit = limit;
    this.#logger = logger;
  }

  /** Opens the bucket (throws naming it when it is missing: `ensureTopology` creates it). */
  static async open(
    js: JetStreamClient,
    type: string,
    limit: RateLimit,
    logger: Logger,
  ): Promise<RateLimiter> {
    let kv: KV;
    try {
      kv = await new Kvm(js).open(KvBucket.RateLimits, { allow_direct: true });
    } catch (err) {
      throw new Error(
        `the ${KvBucket.RateLimits} bucket, which rate limits need, cannot be opened (run ensureTopology of this release)`,
        { cause: err },
      );
    }
    return new RateLimiter(kv, type, limit, logger);
  }

  /**
   * Resolves once the job may start, its start counted in the current window; rejects with the
   * signal's reason once `signal` aborts (the worker stops, the job is cancelled).
   */
  take(signal: AbortSignal): Promise<void> {
    const turn = this.#queue.then(() => this.#take(signal));
    this.#queue = turn.catch(() => undefined);
    return turn;
  }

  async #take(signal: AbortSignal): Promise<void> {
    const { max, perMs } = this.#limit;
    for (;;) {
      signal.throwIfAborted();
      const now = Date.now();
      const window = Math.floor(now / perMs);
      try {
        if (await this.#count(`${this.#type}.${String(window)}`, max)) return;
      } catch (err) {
        this.#logger.warn(
          { err, type: this.#type },
          "could not count a start against the rate limit; trying again",
        );
        await sleep(retryAfterFailureMs, undefined, { signal });
        continue;
      }
      // Full: the next window. Workers waking at once contend for its key; the compare-and-set
      // lets each count once.
      await sleep((window + 1) * perMs - now, undefined, { signal });
    }
  }

  /** Counts one start in `key` unless it holds `max` already; false when it does. */
  async #count(key: string, max: number): Promise<boolean> {
    const written = await updateByRevision(this.#kv, key, (stored) => {
      // What is no count (written by hand, say) counts as none, and is written over.
      const read = Number(stored);
      const counted = Number.isSafeInteger(read) && read > 0 ? read : 0;
      return counted >= max ? undefined : String(counted + 1);
    });
    return written !== undefined;
  }
}
