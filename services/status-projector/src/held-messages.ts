import { ChurnTable } from "@conveyor/service-kit";

interface Held<Msg> {
  msg: Msg;
  key: string;
  /** When the message must be projected at the latest (epoch milliseconds). */
  due: number;
}

/**
 * Messages a projection held back for a later batch, grouped by hold key (the job of an event).
 * A batch takes out only the keys it touches and the keys that come due, so its cost follows the
 * batch, not the thousands of messages held meanwhile. Both tables are `ChurnTable`s: every event
 * of a busy stream passes through them.
 */
export class HeldMessages<Msg> implements Iterable<Msg> {
  readonly #idOf: (msg: Msg) => number | string;
  readonly #held = new ChurnTable<Held<Msg>>();
  readonly #byKey = new ChurnTable<Msg[]>();

  /**
   * @param idOf a message's identity, unique among those held (a JetStream message's stream
   * sequence); held messages come out in the order of their ids when those are integers.
   */
  constructor(idOf: (msg: Msg) => number | string) {
    this.#idOf = idOf;
  }

  get size(): number {
    return this.#held.size;
  }

  add(msg: Msg, key: string, due: number): void {
    this.#held.set(this.#idOf(msg), { msg, key, due });
    const group = this.#byKey.get(key);
    if (group === undefined) this.#byKey.set(key, [msg]);
    else group.push(msg);
  }

  /**
   * Takes out every message of the `touched` keys and of every key with a message due by `dueBy`
   * (a job is released whole), with their due times.
   */
  release(touched: Iterable<string>, dueBy: number): Map<Msg, number> {
    const keys = new Set<string>();
    for (const key of touched) if (this.#byKey.has(key)) keys.add(key);
    for (const { key, due } of this.#held.values()) if (due <= dueBy) keys.add(key);
    const released = new Map<Msg, number>();
    for (const key of keys) {
      for (const msg of this.#byKey.get(key) ?? []) {
        const id = this.#idOf(msg);
        released.set(msg, this.#held.get(id)?.due ?? dueBy);
        this.#held.delete(id);
      }
      this.#byKey.delete(key);
    }
    return released;
  }

  /** How long until the first held message must be projected, in milliseconds (0 if overdue). */
  msUntilDue(now = Date.now()): number {
    let first = Number.POSITIVE_INFINITY;
    for (const { due } of this.#held.values()) first = Math.min(first, due);
    return Math.max(0, first - now);
  }

  /** The held messages, in the order of {@link ChurnTable.values}. */
  [Symbol.iterator](): IterableIterator<Msg> {
    return this.#held
      .values()
      .map((held) => held.msg)
      [Symbol.iterator]();
  }
}
