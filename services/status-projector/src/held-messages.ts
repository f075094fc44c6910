interface Held {
  key: string;
  /** When the message must be projected at the latest (epoch milliseconds). */
  due: number;
}

/**
 * Messages a projection held back for a later batch, grouped by hold key (the job of an event).
 * A batch takes out only the keys it touches and the keys that come due, so its cost follows the
 * batch, not the thousands of messages held meanwhile.
 */
export class HeldMessages<Msg> implements Iterable<Msg> {
  readonly #held = new Map<Msg, Held>();
  readonly #byKey = new Map<string, Msg[]>();

  get size(): number {
    return this.#held.size;
  }

  add(msg: Msg, key: string, due: number): void {
    this.#held.set(msg, { key, due });
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
        released.set(msg, this.#held.get(msg)?.due ?? dueBy);
        this.#held.delete(msg);
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

  /** The held messages, oldest first. */
  [Symbol.iterator](): IterableIterator<Msg> {
    return this.#held.keys();
  }
}
