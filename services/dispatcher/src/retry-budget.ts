import { isNatsOutage } from "@conveyor/service-kit";
import type { JsMsg } from "@nats-io/jetstream";

/** Failures other than outages a message gets after an outage before it can be given up. */
export const freshRetriesAfterOutage = 5;

/** Messages whose failures are remembered at most; past it the longest-remembered are forgotten. */
const defaultMaxRemembered = 10_000;

/** What the budget reads of a message: its place in its stream and its deliveries. */
export type BudgetedMessage = Pick<JsMsg, "seq" | "time"> & {
  info: Pick<JsMsg["info"], "deliveryCount">;
};

/**
 * When a mailbox message that keeps failing for a reason other than an outage of NATS is given
 * up: once the server has delivered it `giveUpAfter` times (about 25 minutes at 1 s doubling to
 * 30 s: the bound that keeps its retries within `WORK`'s one-hour duplicate window, shared by
 * every replica and kept across restarts) and this replica has seen it fail that way
 * {@link freshRetriesAfterOutage} times, so that after an outage of any length (whose deliveries
 * count for the server) a message that then fails for another reason still gets a few retries.
 * An outage itself never spends the budget. The failures are counted in memory, per message (its
 * sequence and stored time, so a stream provisioned anew starts afresh).
 */
export class RetryBudget {
  readonly #giveUpAfter: number;
  readonly #freshRetries: number;
  readonly #counts = new Map<string, number>();
  readonly #maxRemembered: number;

  constructor(giveUpAfter: number, maxRemembered = defaultMaxRemembered) {
    this.#giveUpAfter = giveUpAfter;
    this.#freshRetries = Math.min(giveUpAfter, freshRetriesAfterOutage);
    this.#maxRemembered = maxRemembered;
  }

  /** Counts `err` against `msg` unless it is an outage; whether the message is to be given up. */
  spentBy(msg: BudgetedMessage, err: unknown): boolean {
    if (isNatsOutage(err)) return false;
    const key = keyOf(msg);
    const count = (this.#counts.get(key) ?? 0) + 1;
    // Set anew so that the map's order is the order of the latest failures.
    this.#counts.delete(key);
    this.#counts.set(key, count);
    if (this.#counts.size > this.#maxRemembered) {
      const oldest = this.#counts.keys().next();
      if (oldest.done !== true) this.#counts.delete(oldest.value);
    }
    return this.#spent(msg, count);
  }

  /** Whether one more failure other than an outage would give `msg` up. */
  lastIfFails(msg: BudgetedMessage): boolean {
    return this.#spent(msg, (this.#counts.get(keyOf(msg)) ?? 0) + 1);
  }

  /** Forgets a message settled for good. */
  settled(msg: BudgetedMessage): void {
    // Most messages never failed: no key to build.
    if (this.#counts.size > 0) this.#counts.delete(keyOf(msg));
  }

  #spent(msg: BudgetedMessage, count: number): boolean {
    return msg.info.deliveryCount >= this.#giveUpAfter && count >= this.#freshRetries;
  }
}

function keyOf(msg: BudgetedMessage): string {
  return `${String(msg.seq)}@${String(msg.time.getTime())}`;
}
