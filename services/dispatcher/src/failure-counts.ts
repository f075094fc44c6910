import { isNatsOutage } from "@conveyor/service-kit";

/** Messages whose failures are remembered at most; past it the longest-remembered are forgotten. */
const defaultMaxRemembered = 10_000;

/**
 * How many times each message (by stream sequence) failed for a reason other than an outage of
 * NATS, so that the deliveries an outage took do not count toward giving a message up: after an
 * outage of any length, a message that then fails for another reason still gets every retry. In
 * memory: a restarted dispatcher counts afresh, which gives a message more retries, never fewer.
 */
export class FailureCounts {
  readonly #counts = new Map<number, number>();
  readonly #maxRemembered: number;

  constructor(maxRemembered = defaultMaxRemembered) {
    this.#maxRemembered = maxRemembered;
  }

  /** The failures counted for the message so far. */
  of(seq: number): number {
    return this.#counts.get(seq) ?? 0;
  }

  /** Counts `err` against the message unless it is an outage; returns the message's count. */
  failed(seq: number, err: unknown): number {
    const count = this.of(seq);
    if (isNatsOutage(err)) return count;
    // Set anew so that the map's order is the order of the latest failures.
    this.#counts.delete(seq);
    this.#counts.set(seq, count + 1);
    if (this.#counts.size > this.#maxRemembered) {
      const oldest = this.#counts.keys().next();
      if (oldest.done !== true) this.#counts.delete(oldest.value);
    }
    return count + 1;
  }

  /** Forgets a message that was settled for good. */
  forget(seq: number): void {
    this.#counts.delete(seq);
  }
}
