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

/** Reports of one attempt being stored at once, at most. */
export const maxPublishing = 16;

/**
 * Turns a handler's progress calls into progress events, at most one per `intervalMs`: a report
 * inside the interval is held back and only the newest held one is published when the interval
 * ends. The first report and a final one (`done >= total`) are published at once. At most
 * {@link maxPublishing} reports are being stored at a time: one made beyond that is held, the
 * newest of them published as soon as one is stored, so a handler reporting in a tight loop (calls
 * resolve at once) cannot queue publishes without bound on a slow stream.
 */
export class ProgressReporter {
  readonly #sink: ProgressSink;
  readonly #intervalMs: number;
  readonly #now: () => number;
  #seq = 0;
  #lastPublishedAt: number | undefined;
  #held: Omit<ProgressReport, "seq"> | undefined;
  /** Whether the held report was due when made (the interval over, or final). */
  #heldDue = false;
  #timer: NodeJS.Timeout | undefined;
  /** Reports being stored now. */
  #publishing = 0;
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
    const due = this.#isDue() || done >= total;
    const room = this.#publishing < maxPublishing;
    if (due && room) {
      this.#dropHeld();
      this.#publish(report);
      return Promise.resolve();
    }
    this.#held = report;
    this.#heldDue = due;
    // A report held for room goes out when a report is stored; others when the interval ends.
    if (room) this.#startTimer();
    return Promise.resolve();
  }

  /** Stops publishing; held reports are dropped (the attempt's outcome supersedes them). */
  close(): void {
    this.#closed = true;
    this.#dropHeld();
  }

  #isDue(): boolean {
    const now = this.#now();
    // A wall clock stepped back (NTP, a resumed VM) makes the interval over, not endless.
    return (
      this.#lastPublishedAt === undefined ||
      now - this.#lastPublishedAt >= this.#intervalMs ||
      now < this.#lastPublishedAt
    );
  }

  #startTimer(): void {
    const now = this.#now();
    this.#timer ??= setTimeout(
      () => {
        this.#timer = undefined;
        this.#sendHeld();
      },
      (this.#lastPublishedAt ?? now) + this.#intervalMs - now,
    );
  }

  #sendHeld(): void {
    const held = this.#held;
    if (held === undefined || this.#closed || this.#publishing >= maxPublishing) return;
    this.#dropHeld();
    this.#publish(held);
  }

  #publish(report: Omit<ProgressReport, "seq">): void {
    this.#lastPublishedAt = this.#now();
    this.#publishing++;
    // The sink never rejects (its failures are its own to log).
    void this.#sink({ ...report, seq: this.#seq++ }).finally(() => {
      this.#publishing--;
      if (this.#held === undefined || this.#closed) return;
      if (this.#heldDue || this.#isDue()) this.#sendHeld();
      else this.#startTimer();
    });
  }

  #dropHeld(): void {
    this.#held = undefined;
    this.#heldDue = false;
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
