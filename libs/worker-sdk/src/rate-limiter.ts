import { setTimeout as sleep } from "node:timers/promises";

import { KvBucket } from "@conveyor/contracts";
import { isWrongRevision, updateByRevision } from "@conveyor/service-kit";
import type { Logger } from "@conveyor/service-kit";
import type { JetStreamClient, JetStreamManager } from "@nats-io/jetstream";
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
/** Shortest interval between two warnings that the bucket does not answer, in milliseconds. */
const warnEveryMs = 10_000;
/** Longest pause after writes that kept losing to other replicas', in milliseconds. */
const maxConflictPauseMs = 50;
/** Longest random delay of a wake-up at a window's edge, in milliseconds (a tenth of the window at most). */
const maxWakeJitterMs = 50;

/**
 * Hands out the starts of one job type, at most `max` per window across all workers: each start
 * counts itself in the window's key of the `conveyor-rate-limits` bucket with a write conditional
 * on the revision read, and a job finding the window full waits for the next. One start at a time
 * per process, so that its own jobs do not race each other for the key.
 */
export class RateLimiter {
  readonly #kv: KV;
  readonly #type: string;
  readonly #limit: RateLimit;
  readonly #logger: Logger;
  #queue: Promise<unknown> = Promise.resolve();
  #warnedAt = Number.NEGATIVE_INFINITY;

  constructor(kv: KV, type: string, limit: RateLimit, logger: Logger) {
    this.#kv = kv;
    this.#type = type;
    this.#limit = limit;
    this.#logger = logger;
  }

  /**
   * Opens the bucket, after checking that it exists with direct gets (opening a KV bucket does not
   * ask the server): throws naming it otherwise, as `ensureTopology` of this release creates it.
   */
  static async open(
    jsm: JetStreamManager,
    js: JetStreamClient,
    type: string,
    limit: RateLimit,
    logger: Logger,
  ): Promise<RateLimiter> {
    const stream = `KV_${KvBucket.RateLimits}`;
    const info = await jsm.streams.info(stream).catch((err: unknown) => {
      throw new Error(
        `the ${KvBucket.RateLimits} bucket, which the rate limit of ${type} needs, cannot be read (run ensureTopology of this release)`,
        { cause: err },
      );
    });
    if (!info.config.allow_direct) {
      throw new Error(
        `the ${KvBucket.RateLimits} bucket has no direct gets (run ensureTopology of this release)`,
      );
    }
    const kv = await new Kvm(js).open(KvBucket.RateLimits, { allow_direct: true });
    return new RateLimiter(kv, type, limit, logger);
  }

  /**
   * Resolves once the job may start, its start counted in the current window; rejects with the
   * signal's reason once `signal` aborts (the worker stops, the job is cancelled), also while it
   * waits behind this process's other starts.
   */
  take(signal: AbortSignal): Promise<void> {
    const ahead = this.#queue;
    const turn = untilAborted(ahead, signal).then(() => this.#take(signal));
    // The next waits for this one and for the ones ahead: one aborted while it waited in line
    // lets no later start run beside an earlier one.
    this.#queue = Promise.allSettled([ahead, turn]);
    return turn;
  }

  async #take(signal: AbortSignal): Promise<void> {
    const { max, perMs } = this.#limit;
    let conflicts = 0;
    for (;;) {
      signal.throwIfAborted();
      const now = Date.now();
      const window = Math.floor(now / perMs);
      try {
        if (await this.#count(`${this.#type}.${String(window)}`, max)) return;
      } catch (err) {
        if (isWrongRevision(err)) {
          // Replicas counting at once: each write that lands makes the others read again, after
          // a pause that grows while nobody's write lands (a cluster electing its leader).
          conflicts++;
          if (conflicts > 3) this.#warn(err);
          const pauseMs = Math.random() * Math.min(maxConflictPauseMs, 2 ** conflicts);
          await sleep(pauseMs, undefined, { signal });
          continue;
        }
        this.#warn(err);
        await sleep(retryAfterFailureMs, undefined, { signal });
        continue;
      }
      // Full: the next window, each worker waking a little apart from the others.
      const jitterMs = Math.random() * Math.min(maxWakeJitterMs, perMs / 10);
      await sleep((window + 1) * perMs - now + jitterMs, undefined, { signal });
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

  #warn(err: unknown): void {
    const now = performance.now();
    if (now - this.#warnedAt < warnEveryMs) return;
    this.#warnedAt = now;
    this.#logger.warn(
      { err, type: this.#type },
      "could not count a start against the rate limit; the type's jobs wait and try again",
    );
  }
}

/** Resolves when `ahead` settles, or rejects with the signal's reason once it aborts. */
function untilAborted(ahead: Promise<unknown>, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.reject(signal.reason as Error);
  return new Promise<void>((resolve, reject) => {
    const onAbort = () => {
      reject(signal.reason as Error);
    };
    signal.addEventListener("abort", onAbort, { once: true });
    void ahead.finally(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    });
  });
}
