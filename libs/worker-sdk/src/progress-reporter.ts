/** One progress report, numbered by the reporter. */
export interface ProgressReport {
  done: number;
  total: number;
  message?: string;
  /** 0, 1, 2... per attempt, in publishing order. */
  seq: number;
}

/** Publishes a report; must not reject (failures are the sink's to log). Not waited for. */
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

  /** Resolves at once: publishing goes on in the background. */
  report(done: number, total: number, message?: string): Promise<void> {
    checkProgress(done, total, message);
    if (this.#closed) return Promise.resolve();
    const report = message === undefined ? { done, total } : { done, total, message };
    const now = this.#now();
    // A wall clock stepped back (NTP, a resumed VM) makes the interval over, not endless.
    const due =
      this.#lastPublishedAt === undefined ||
      now - this.#lastPublishedAt >= this.#intervalMs ||
      now < this.#lastPublishedAt;
    if (due || done >= total) {
      this.#dropHeld();
      // Not awaited: a handler that awaits its progress must not wait for the stream to store it
      // (up to a publish timeout per report, taken from the job's own timeout).
      void this.#publish(report);
      return Promise.resolve();
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

/**
 * Checks a progress call's arguments as a worker does (a test context too): counts finite and not
 * negative, a message a string if given.
 *
 * @throws {RangeError} for a bad count. @throws {TypeError} for a message that is not a string.
 */
export function checkProgress(done: number, total: number, message: string | undefined): void {
  checkCount("done", done);
  checkCount("total", total);
  if (message !== undefined && typeof message !== "string") {
    throw new TypeError(`progress message must be a string, got ${typeof message}`);
  }
}

function checkCount(name: string, value: number): void {
  if (typeof value !== "number" || !Number.isFinite(value) || value < 0) {
    throw new RangeError(`progress ${name} must be a finite number >= 0, got ${String(value)}`);
  }
}
