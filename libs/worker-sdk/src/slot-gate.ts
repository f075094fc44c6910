/** A job waiting for a handler slot. */
interface Waiter {
  priority: number;
  admit: () => void;
}

/**
 * The handler slots of one job type on one worker: at most `slots` handlers run at once, the
 * highest priority first. A job delivered while every slot is taken, or while jobs of a higher
 * priority are known to wait in `WORK` (`claimed`: the highest such priority, `-Infinity` when
 * none), waits here; each slot that frees goes to the waiting job of the highest priority, the
 * longest waiting among equals, unless a higher priority's jobs still wait to be pulled: the slot
 * is kept for them. Jobs wait only when a worker was handed more than it had slots for: one of a
 * priority that came while the slots were taken.
 */
export class SlotGate {
  readonly #slots: number;
  #free: number;
  readonly #claimed: () => number;
  /** Highest priority first, then in arrival order. */
  readonly #waiting: Waiter[] = [];
  /** While held, every job waits: see {@link hold}. */
  #held = false;

  constructor(slots: number, claimed: () => number = () => -Infinity) {
    this.#slots = slots;
    this.#free = slots;
    this.#claimed = claimed;
  }

  /** Jobs waiting for a slot. */
  get waiting(): number {
    return this.#waiting.length;
  }

  /** Slots held now. */
  get taken(): number {
    return this.#slots - this.#free;
  }

  /**
   * Takes a free slot for a job of `priority` when no job of its priority or a higher one waits
   * for one, and none of a higher priority is known to wait in `WORK`; false otherwise.
   */
  tryEnter(priority: number): boolean {
    if (this.#held || this.#free <= 0 || priority < this.#claimed()) return false;
    const first = this.#waiting[0];
    if (first !== undefined && first.priority >= priority) return false;
    this.#free--;
    return true;
  }

  /**
   * Resolves once the job holds a slot, calling `admitted` in the same turn as the slot is taken;
   * rejects with the signal's reason when the signal is aborted first (no slot is taken then).
   */
  enter(priority: number, signal: AbortSignal, admitted: () => void): Promise<void> {
    if (signal.aborted) return Promise.reject(signal.reason as Error);
    if (this.tryEnter(priority)) {
      admitted();
      return Promise.resolve();
    }
    const { promise, resolve, reject } = Promise.withResolvers<undefined>();
    const onAbort = () => {
      const at = this.#waiting.indexOf(waiter);
      if (at >= 0) this.#waiting.splice(at, 1);
      reject(signal.reason as Error);
    };
    const waiter: Waiter = {
      priority,
      admit: () => {
        signal.removeEventListener("abort", onAbort);
        admitted();
        resolve(undefined);
      },
    };
    const after = this.#waiting.findIndex((other) => other.priority < priority);
    this.#waiting.splice(after < 0 ? this.#waiting.length : after, 0, waiter);
    signal.addEventListener("abort", onAbort, { once: true });
    return promise;
  }

  /**
   * Gives no slot until {@link release}: jobs that come meanwhile wait, and then take the slots
   * highest priority first, whatever order they came in.
   */
  hold(): void {
    this.#held = true;
  }

  /** Ends a {@link hold}: the waiting jobs take the free slots. */
  release(): void {
    this.#held = false;
    this.admitWaiting();
  }

  /** Frees a slot taken by {@link tryEnter} or {@link enter}: a waiting job may take it. */
  leave(): void {
    this.#free++;
    this.admitWaiting();
  }

  /**
   * Gives free slots to waiting jobs, highest priority first, as far as no higher priority's jobs
   * are known to wait in `WORK`: called when that changes.
   */
  admitWaiting(): void {
    while (this.#free > 0 && !this.#held) {
      const next = this.#waiting[0];
      if (next === undefined || next.priority < this.#claimed()) return;
      this.#waiting.shift();
      this.#free--;
      next.admit();
    }
  }
}
