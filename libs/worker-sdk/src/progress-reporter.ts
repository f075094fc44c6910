/** One progress report, numbered by the reporter. */
export interface ProgressReport {
  done: number;
  total: number;
  message?: string;
  /** 0, 1, 2... per attempt, in publishing order. */
  seq: number;
}

/** Publishes a report; must not reject (failures are the sink's to log). */
export type ProgressSink = (report: ProgressReport) => Promise<void>;

/**
 * Turns a handler's progress calls into progress events, at most one per `intervalMs`: a report
 * inside the interval is held back and only the newest held one is published when the interval
 * ends. The first report and a final one (`done >= total`) are published at once.
 */
export class ProgressReporter {
  readonly #sink: ProgressSink;
  readonly #intervalMs: number;
  readonly #now: () => number;
  #seq = 0;
  #lastPublishedAt: number | undefined;
  #held: Omit<ProgressReport, "seq"> | undefined;
  #timer: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(sink: ProgressSink, intervalMs: number, now: () => number = Date.now) {
    this.#sink = sink;
    this.#intervalMs = intervalMs;
    this.#now = now;
  }

  report(done: number, total: number, message?: string): Promise<void> {
    checkCount("done", done);
    checkCount("total", total);
    if (this.#closed) return Promise.resolve();
    const report = message === undefined ? { done, total } : { done, total, message };
    const now = this.#now();
    const due =
      this.#lastPublishedAt === undefined || now - this.#lastPublishedAt >= this.#intervalMs;
    if (due || done >= total) {
      this.#dropHeld();
      return this.#publish(report);
    }
    this.#held = report;
    this.#timer ??= setTimeout(
      () => {
        this.#timer = undefined;
        const held = this.#held;
        this.#held = undefined;
        if (held !== undefined && !this.#closed) void this.#publish(held);
      },
      (this.#lastPublishedAt ?? now) + this.#intervalMs - now,
    );
    return Promise.resolve();
  }

  /** Stops publishing; held reports are dropped (the attempt's outcome supersedes them). */
  close(): void {
    this.#closed = true;
    this.#dropHeld();
  }

  #publish(report: Omit<ProgressReport, "seq">): Promise<void> {
    this.#lastPublishedAt = this.#now();
    return this.#sink({ ...report, seq: this.#seq++ });
  }

  #dropHeld(): void {
    this.#held = undefined;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}

function checkCount(name: string, value: number): void {
  if (typeof value !== "number" || !Number.isFinite(value) || value < 0) {
    throw new RangeError(`progress ${name} must be a finite number >= 0, got ${String(value)}`);
  }
}
