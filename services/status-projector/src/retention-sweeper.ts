import { deleteExpired } from "@conveyor/read-model";
import type { ExpiredCounts, RetentionPolicy } from "@conveyor/read-model";
import type { Logger } from "@conveyor/service-kit";
import type { Db } from "mongodb";

export interface RetentionSweeperOptions {
  policy: RetentionPolicy;
  /** Time from the end of one sweep to the start of the next, in milliseconds. */
  intervalMs: number;
  /**
   * Most documents deleted per command (see `deleteExpired`): 0 deletes each kind with one
   * command, for a server that cannot find expired documents by index.
   */
  batchSize: number;
}

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
    this.#scheduleNext();
  }

  /** Stops sweeping; resolves once a sweep in progress has finished its current step. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await this.#sweeping;
  }

  #scheduleNext(): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(() => {
      this.#sweeping = this.#sweep().finally(() => {
        this.#sweeping = undefined;
        this.#scheduleNext();
      });
    }, this.#options.intervalMs);
    // The service's connections keep it alive; a pending sweep must not.
    this.#timer.unref();
  }

  async #sweep(): Promise<void> {
    const startedAt = performance.now();
    try {
      const deleted = await deleteExpired(this.#db, this.#options.policy, {
        batchSize: this.#options.batchSize,
        stopping: () => this.#stopped,
      });
      if (total(deleted) === 0) return;
      this.#logger.info(
        { ...deleted, ms: Math.round(performance.now() - startedAt) },
        "expired read-model documents deleted",
      );
    } catch (err) {
      this.#logger.warn(
        { err, retryInMs: this.#options.intervalMs },
        "read-model retention sweep failed; the next sweep tries again",
      );
    }
  }
}

function total(counts: ExpiredCounts): number {
  return counts.jobs + counts.rejections + counts.deadLetters;
}
