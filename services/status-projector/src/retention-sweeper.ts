import { deleteExpired } from "@conveyor/read-model";
import type { ExpiredCounts, RetentionPolicy } from "@conveyor/read-model";
import type { Logger } from "@conveyor/service-kit";
import type { Db } from "mongodb";

export interface RetentionSweeperOptions {
  policy: RetentionPolicy;
  /**
   * Time from the end of one sweep to the start of the next, in milliseconds; longer after a
   * slow sweep (see {@link nextSweepDelayMs}).
   */
  intervalMs: number;
  /**
   * Most documents deleted per command (see `deleteExpired`): 0 deletes each kind with one
   * command, for a server that cannot find expired documents by index.
   */
  batchSize: number;
}

/**
 * How many times as long as a sweep took the next one waits at least: sweeping takes at most 1 %
 * of the time. Where the server finds expired documents by scanning (FerretDB reads and decodes
 * every document, about 0.1 ms each on a 2-core machine), a sweep of a large read model takes
 * seconds, and sweeping every minute would keep a core busy.
 */
const waitPerSweepTime = 99;

/** Longest wait a timer can be given (Node fires a longer one at once). */
const maxTimerMs = 2 ** 31 - 1;

/** Time from a sweep that took `lastSweepMs` to the next, in milliseconds. */
export function nextSweepDelayMs(intervalMs: number, lastSweepMs: number): number {
  return Math.min(maxTimerMs, Math.max(intervalMs, Math.ceil(lastSweepMs * waitPerSweepTime)));
}

/** A sweep that takes at least this long is logged even when it deleted nothing, in milliseconds. */
const slowSweepMs = 1000;

/**
 * Deletes the read-model documents that have outlived the retention policy, once per interval,
 * beside the projector's mailboxes. It needs no lock against them: a delete checks the document's
 * state again, and a document deleted while a mailbox merges an event into it is written again
 * whole by that mailbox's upsert. A failed sweep is logged and the next one tries again.
 */
export class RetentionSweeper {
  readonly #db: Db;
  readonly #logger: Logger;
  readonly #options: RetentionSweeperOptions;
  #timer: NodeJS.Timeout | undefined;
  #sweeping: Promise<void> | undefined;
  #stopped = false;

  constructor(db: Db, logger: Logger, options: RetentionSweeperOptions) {
    this.#db = db;
    this.#logger = logger;
    this.#options = options;
  }

  /** Sweeps one interval from now, and then one interval after each sweep ends. */
  start(): void {
    this.#logger.info(
      { ...this.#options.policy, intervalMs: this.#options.intervalMs },
      "read-model retention sweeper started",
    );
    this.#scheduleNext(this.#options.intervalMs);
  }

  /** Stops sweeping; resolves once a sweep in progress has finished its current step. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await this.#sweeping;
  }

  #scheduleNext(delayMs: number): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(() => {
      this.#sweeping = this.#sweep().then((nextInMs) => {
        this.#sweeping = undefined;
        this.#scheduleNext(nextInMs);
      });
    }, delayMs);
    // The service's connections keep it alive; a pending sweep must not.
    this.#timer.unref();
  }

  /** One sweep; resolves with the time until the next. */
  async #sweep(): Promise<number> {
    const startedAt = performance.now();
    try {
      const deleted = await deleteExpired(this.#db, this.#options.policy, {
        batchSize: this.#options.batchSize,
        stopping: () => this.#stopped,
      });
      const ms = Math.round(performance.now() - startedAt);
      const nextInMs = nextSweepDelayMs(this.#options.intervalMs, ms);
      if (total(deleted) > 0 || ms >= slowSweepMs) {
        this.#logger.info({ ...deleted, ms, nextInMs }, "expired read-model documents deleted");
      }
      return nextInMs;
    } catch (err) {
      this.#logger.warn(
        { err, retryInMs: this.#options.intervalMs },
        "read-model retention sweep failed; the next sweep tries again",
      );
      return this.#options.intervalMs;
    }
  }
}

function total(counts: ExpiredCounts): number {
  return counts.jobs + counts.rejections + counts.deadLetters;
}
