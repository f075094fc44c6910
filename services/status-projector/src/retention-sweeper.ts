import { RetentionSweepError, deleteExpired } from "@conveyor/read-model";
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
  /** Most documents deleted per step (one find of their ids, one bulk write of their deletes). */
  batchSize: number;
  /**
   * Whether each delete checks the document's state and age again (see `deleteExpired`): false
   * where the server looks a document up by index only by `_id` alone (FerretDB on SQLite).
   */
  recheck: boolean;
  /** Most of the time sweeps may take, above 0 and below 1. @default {@link defaultMaxBusyShare} */
  maxBusyShare?: number;
  /**
   * Whether the projector has caught up with the events; a sweep waits for the next interval
   * while it has not. A projector far behind (a rebuild starts a week behind, at the default
   * ages) writes jobs that are already expired: swept at once, a later event of one (a
   * redelivery after its success) would be folded into nothing and leave a partial document that
   * the live read model never had. @default always caught up
   */
  caughtUp?: () => Promise<boolean>;
}

/**
 * Share of the time sweeps may take by default: the next sweep waits at least 99 times as long as
 * the last one took. Where the server finds expired documents by scanning (FerretDB reads and
 * decodes every document, about 0.1 ms each on a 2-core machine), a sweep of a large read model
 * takes seconds, and sweeping every minute would keep a core busy. A failed sweep counts alike: its
 * time may have gone to a scan that then timed out.
 */
export const defaultMaxBusyShare = 0.01;

/**
 * Longest a slow sweep pushes the next one out, in milliseconds: a sweep's time is not all the
 * server's work (a failed one mostly waited for an unreachable server, a first one after a
 * backlog deleted much), and retention must not stop for a day because of one.
 */
const maxQuietMs = 3_600_000;

/**
 * Time from a sweep that took `lastSweepMs` to the next, in milliseconds: the interval, or longer
 * (up to an hour) so that sweeping takes at most `maxBusyShare` of the time.
 */
export function nextSweepDelayMs(
  intervalMs: number,
  lastSweepMs: number,
  maxBusyShare = defaultMaxBusyShare,
): number {
  const quietMs = Math.ceil((lastSweepMs * (1 - maxBusyShare)) / maxBusyShare);
  return Math.max(intervalMs, Math.min(quietMs, maxQuietMs));
}

/**
 * Longest {@link RetentionSweeper.stop} waits for a sweep step in progress, in milliseconds: a
 * step cut short by closing the client deletes less, nothing else, and a shutdown has the
 * projector's batches to finish within its grace.
 */
const stopWaitMs = 5000;

/** A sweep that takes at least this long is logged even when it deleted nothing, in milliseconds. */
const slowSweepMs = 1000;

/**
 * Deletes the read-model documents that have outlived the retention policy, once per interval,
 * beside the projector's mailboxes, in steps of `batchSize` documents, each delete naming one
 * document by `_id`. With `recheck` (MongoDB) a delete also checks the document's state and age
 * again, so a job replayed into a new run since its step found it stays. Without (FerretDB) a
 * replay landing between the moment a step's find read the job and its deletes (up to the
 * seconds a find takes to read through a large collection) is deleted with the old run, and comes
 * back with the job's next event. A failed sweep is logged and the next one tries again.
 */
export class RetentionSweeper {
  readonly #db: Db;
  readonly #logger: Logger;
  readonly #options: RetentionSweeperOptions;
  #timer: NodeJS.Timeout | undefined;
  #sweeping: Promise<void> | undefined;
  #stopped = false;

  /** @throws {RangeError} when `maxBusyShare` is not above 0 and below 1. */
  constructor(db: Db, logger: Logger, options: RetentionSweeperOptions) {
    const share = options.maxBusyShare ?? defaultMaxBusyShare;
    if (!(share > 0 && share < 1)) {
      throw new RangeError(`maxBusyShare must be above 0 and below 1, not ${share}`);
    }
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

  /**
   * Stops sweeping; resolves once a sweep in progress has finished its current step, or after
   * a few seconds if the step takes longer (closing the client then ends it).
   */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    if (this.#sweeping === undefined) return;
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<void>((resolve) => (timer = setTimeout(resolve, stopWaitMs)));
    await Promise.race([this.#sweeping, deadline]);
    clearTimeout(timer);
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
    if (this.#options.caughtUp !== undefined && !(await this.#options.caughtUp())) {
      this.#logger.debug("the projector is behind on the events; the sweep waits");
      return this.#options.intervalMs;
    }
    const startedAt = performance.now();
    const elapsedMs = () => Math.round(performance.now() - startedAt);
    try {
      const deleted = await deleteExpired(this.#db, this.#options.policy, {
        batchSize: this.#options.batchSize,
        recheck: this.#options.recheck,
        stopping: () => this.#stopped,
      });
      const ms = elapsedMs();
      const nextInMs = nextSweepDelayMs(this.#options.intervalMs, ms, this.#options.maxBusyShare);
      if (total(deleted) > 0 || ms >= slowSweepMs) {
        this.#logger.info({ ...deleted, ms, nextInMs }, "expired read-model documents deleted");
      }
      return nextInMs;
    } catch (err) {
      const nextInMs = nextSweepDelayMs(
        this.#options.intervalMs,
        elapsedMs(),
        this.#options.maxBusyShare,
      );
      const deleted = err instanceof RetentionSweepError ? err.deleted : undefined;
      if (this.#stopped) {
        this.#logger.info({ err, ...deleted }, "read-model retention sweep cut short by the stop");
      } else {
        this.#logger.warn(
          { err, ...deleted, nextInMs },
          "read-model retention sweep failed; the next sweep tries again",
        );
      }
      return nextInMs;
    }
  }
}

function total(counts: ExpiredCounts): number {
  return counts.jobs + counts.rejections + counts.deadLetters;
}
