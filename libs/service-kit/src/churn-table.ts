/**
 * A keyed table for entries that come and go at the rate of messages (a publish waiting for its
 * acknowledgement, a job in flight), with the part of `Map`'s interface such uses need.
 *
 * Why not a `Map`: a long-lived V8 `Map` or `Set` under steady add/delete churn rebuilds its hash
 * table every few dozen operations, and each superseded table keeps a link to its successor (for
 * iterators still walking it) along with the entries it held. Once one of those tables has been
 * promoted to the old generation, young-generation collections treat the chain as live: every
 * later table, every entry they held and all those entries reach (a job's message, closures,
 * promises) are copied and promoted until the next full collection. In the worker that was an
 * eighth of everything it allocated, and a third of its CPU went to garbage collection
 * (bench/README.md, Diagnostics). A null-prototype object is a dictionary whose rebuilt tables
 * link to nothing; `bench/src/retention/main.ts` measures both.
 */
export class ChurnTable<V> {
  // `Object.create(null)` objects start in V8's dictionary mode and stay there, and no key
  // ("__proto__", "constructor") has a meaning on them.
  readonly #entries = Object.create(null) as Record<string | number, V>;
  #size = 0;
  /** The next key {@link add} tries. */
  #nextKey = 0;

  get size(): number {
    return this.#size;
  }

  get(key: string | number): V | undefined {
    return this.#entries[key];
  }

  has(key: string | number): boolean {
    return key in this.#entries;
  }

  set(key: string | number, value: V): void {
    if (!(key in this.#entries)) this.#size++;
    this.#entries[key] = value;
  }

  /**
   * Stores `value` under a new integer key, one no entry has, and returns it: for a table of
   * things in flight that have no key of their own.
   */
  add(value: V): number {
    while (this.#nextKey in this.#entries) this.#nextKey++;
    const key = this.#nextKey++;
    this.set(key, value);
    return key;
  }

  /** Removes the entry; returns whether there was one. */
  delete(key: string | number): boolean {
    if (!(key in this.#entries)) return false;
    // eslint-disable-next-line @typescript-eslint/no-dynamic-delete -- the table is a dictionary by design
    delete this.#entries[key];
    this.#size--;
    return true;
  }

  /**
   * The entries now, as an array: the table may change while the caller goes through them. They
   * come in a plain object's key order: integer keys ascending, then the others as first set.
   */
  entries(): [string, V][] {
    return Object.entries(this.#entries);
  }

  /** The values now, in the order of {@link entries}. */
  values(): V[] {
    return Object.values(this.#entries);
  }
}
