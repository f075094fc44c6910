/** Requests waiting for a job to finish at once (`GET /v1/jobs/:id?waitMs=`), by default. */
export const defaultMaxJobWaits = 1000;

/**
 * The gateway's waits for jobs to finish: how many run (each holds a subscription to its job's
 * events, whose every event it parses), bounded so that waiters cannot crowd out the rest, and a
 * signal that ends them all when the gateway stops, so each is answered with its job as it is
 * rather than cut off at the end of the shutdown's grace period.
 */
export class JobWaits {
  readonly #max: number;
  readonly stopping: AbortSignal;
  #running = 0;

  constructor(max: number, stopping: AbortSignal = new AbortController().signal) {
    this.#max = max;
    this.stopping = stopping;
  }

  /** Whether a new wait would go past the bound (or the gateway is stopping): answer at once. */
  get full(): boolean {
    return this.#running >= this.#max || this.stopping.aborted;
  }

  async hold<T>(wait: () => Promise<T>): Promise<T> {
    const release = this.reserve();
    try {
      return await wait();
    } finally {
      release();
    }
  }

  /**
   * Counts one wait from now until the function returned is called (again calls do nothing): for
   * a wait that goes on after the request's handler has returned (an event stream).
   */
  reserve(): () => void {
    this.#running++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#running--;
    };
  }
}
