import { Heap } from "@datastructures-js/heap";
import { ChurnTable } from "@conveyor/service-kit";

interface Held<Msg> {
  msg: Msg;
  key: string;
  /** When the message must be projected at the latest (epoch milliseconds). */
  due: number;
}

/** A message's place in the due order: stale once the message is released (or held anew). */
interface DueEntry {
  id: number | string;
  due: number;
}

/** Stale due entries tolerated beyond the held messages before the heap is rebuilt. */
const staleSlack = 1024;

/**
 * Messages a projection held back for a later batch, grouped by hold key (the job of an event).
 * A batch takes out only the keys it touches and the keys that come due, so its cost follows the
 * batch, not the thousands of messages held meanwhile: due times are kept in a min-heap, and a
 * message released early (its job touched) leaves a stale entry there that is skipped when it
 * comes up. Both tables are `ChurnTable`s: every event of a busy stream passes through them.
 */
export class HeldMessages<Msg> implements Iterable<Msg> {
  readonly #idOf: (msg: Msg) => number | string;
  readonly #sizeOf: (msg: Msg) => number;
  #bytes = 0;
  readonly #held = new ChurnTable<Held<Msg>>();
  readonly #byKey = new ChurnTable<Msg[]>();
  #dueOrder = new Heap<DueEntry>(byDue);

  /**
   * @param idOf a message's identity, unique among those held (a JetStream message's stream
   * sequence); held messages come out in the order of their ids when those are integers.
   * @param sizeOf the bytes a message holds in memory (its body), counted in {@link bytes}.
   */
  constructor(idOf: (msg: Msg) => number | string, sizeOf: (msg: Msg) => number = () => 0) {
    this.#idOf = idOf;
    this.#sizeOf = sizeOf;
  }

  get size(): number {
    return this.#held.size;
  }

  /** The bytes the held messages take, as `sizeOf` counts them. */
  get bytes(): number {
    return this.#bytes;
  }

  /**
   * Holds `msg` of job `key` until `due`. A message already held under the same id (a delivery
   * of it made again, once its ack wait ran out) takes the place of the one held, as the delivery
   * to acknowledge, and stays due when the first was: a job is never held longer than promised.
   */
  add(msg: Msg, key: string, due: number): void {
    const id = this.#idOf(msg);
    const earlier = this.#held.get(id);
    if (earlier !== undefined) {
      const group = this.#byKey.get(earlier.key);
      const place = group?.indexOf(earlier.msg) ?? -1;
      if (group !== undefined && place >= 0) group[place] = msg;
      const firstDue = Math.min(due, earlier.due);
      this.#bytes += this.#sizeOf(msg) - this.#sizeOf(earlier.msg);
      this.#held.set(id, { msg, key: earlier.key, due: firstDue });
      if (firstDue !== earlier.due) this.#dueOrder.insert({ id, due: firstDue });
      return;
    }
    this.#held.set(id, { msg, key, due });
    this.#bytes += this.#sizeOf(msg);
    this.#dueOrder.insert({ id, due });
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
    for (let entry = this.#dueOrder.top(); entry !== null && entry.due <= dueBy;) {
      this.#dueOrder.pop();
      const held = this.#current(entry);
      if (held !== undefined) keys.add(held.key);
      entry = this.#dueOrder.top();
    }
    const released = new Map<Msg, number>();
    for (const key of keys) {
      for (const msg of this.#byKey.get(key) ?? []) {
        const id = this.#idOf(msg);
        released.set(msg, this.#held.get(id)?.due ?? dueBy);
        this.#bytes -= this.#sizeOf(msg);
        this.#held.delete(id);
      }
      this.#byKey.delete(key);
    }
    if (this.#dueOrder.size() > this.#held.size + staleSlack) this.#rebuildDueOrder();
    return released;
  }

  /**
   * How long until the first held message must be projected, in milliseconds (0 if overdue). Due
   * times and `now` are on the monotonic clock (`performance.now()`), which a wall-clock step does
   * not move.
   */
  msUntilDue(now = performance.now()): number {
    let entry = this.#dueOrder.top();
    while (entry !== null && this.#current(entry) === undefined) {
      this.#dueOrder.pop();
      entry = this.#dueOrder.top();
    }
    return entry === null ? Number.POSITIVE_INFINITY : Math.max(0, entry.due - now);
  }

  /** The held messages, in the order of {@link ChurnTable.values}. */
  [Symbol.iterator](): IterableIterator<Msg> {
    return this.#held
      .values()
      .map((held) => held.msg)
      [Symbol.iterator]();
  }

  /** The held message an entry stands for, or undefined when the entry is stale. */
  #current(entry: DueEntry): Held<Msg> | undefined {
    const held = this.#held.get(entry.id);
    return held?.due === entry.due ? held : undefined;
  }

  /** Drops the stale entries: messages released early would otherwise pile up until due. */
  #rebuildDueOrder(): void {
    const entries = this.#held
      .values()
      .map((held) => ({ id: this.#idOf(held.msg), due: held.due }));
    this.#dueOrder = Heap.heapify(entries, byDue);
  }
}

function byDue(a: DueEntry, b: DueEntry): number {
  return a.due - b.due;
}

/** How many messages, and how many bytes of them, may be held at most. */
export interface HoldLimits {
  messages: number;
  bytes: number;
}

/**
 * The messages of `batch` that may not be held besides what `held` holds: past the limit on
 * messages, the newest (the oldest held are the nearest to running, and so to ending); past the
 * limit on bytes, each that does not fit (a burst of jobs with large payloads must not exhaust
 * memory, while their small neighbours may still wait).
 */
export function beyondHoldLimits<Msg>(
  batch: readonly Msg[],
  held: { size: number; bytes: number },
  limits: HoldLimits,
  sizeOf: (msg: Msg) => number,
): Set<Msg> {
  const beyond = new Set<Msg>();
  let messages = held.size;
  let bytes = held.bytes;
  for (const msg of batch) {
    const size = sizeOf(msg);
    if (messages >= limits.messages || bytes + size > limits.bytes) {
      beyond.add(msg);
      continue;
    }
    messages++;
    bytes += size;
  }
  return beyond;
}
