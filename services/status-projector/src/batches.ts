const idle = Symbol("idle");

/** A bound on a batch's size in bytes. */
export interface BatchBytes<T> {
  /** Most bytes in one batch; an item larger than that goes in a batch of its own. */
  max: number;
  sizeOf: (item: T) => number;
}

/**
 * Groups the items of an async iterator into batches of up to `max` (and, given `bytes`, of up to
 * `bytes.max` bytes): a batch starts with the next item (waiting for it), takes every further item
 * that has already arrived, and waits for more
 * until `lingerMs` after the previous batch was handed over (or the iteration began). So batches
 * leave at most every `lingerMs` while items keep coming, and never later than that: when
 * handling a batch took longer (a slow write), the items that arrived meanwhile go at once
 * instead of lingering on top of the wait they already had. Under load batches fill up; when
 * idle an item waits at most `lingerMs` (0: it is passed on at once). An item that would take a
 * batch past its bytes starts the next one.
 */
export async function* batches<T>(
  source: AsyncIterable<T>,
  max: number,
  lingerMs = 0,
  bytes?: BatchBytes<T>,
): AsyncGenerator<T[]> {
  const iterator = source[Symbol.asyncIterator]();
  // The next item is asked for before a batch is handed over; when it fails (the consumer was
  // deleted) while the batch is being handled, nothing awaits it yet, and an unhandled rejection
  // would end the process: it is held until it is awaited, which throws it.
  const nextItem = () => {
    const next = iterator.next();
    next.catch(() => undefined);
    return next;
  };
  const sizeOf = bytes?.sizeOf ?? (() => 0);
  const maxBytes = bytes?.max ?? Infinity;
  let pending = nextItem();
  /** An item that did not fit in the previous batch: the first of the next. */
  let carried: IteratorResult<T> | undefined;
  let handedOverAt = performance.now();
  for (;;) {
    const first = carried ?? (await pending);
    if (first.done === true) return;
    if (carried === undefined) pending = nextItem();
    carried = undefined;
    const batch = [first.value];
    let size = sizeOf(first.value);
    // One timer per batch: items that have arrived are handed over in microtasks, before it fires.
    const deadline = pause(Math.max(0, handedOverAt + lingerMs - performance.now()));
    let ended = false;
    try {
      while (batch.length < max) {
        const next = await Promise.race([pending, deadline.promise]);
        if (next === idle) break;
        if (next.done === true) {
          ended = true;
          break;
        }
        pending = nextItem();
        const itemSize = sizeOf(next.value);
        if (size + itemSize > maxBytes) {
          carried = next;
          break;
        }
        batch.push(next.value);
        size += itemSize;
      }
    } finally {
      deadline.cancel();
    }
    handedOverAt = performance.now();
    yield batch;
    if (ended) return;
  }
}

function pause(ms: number): { promise: Promise<typeof idle>; cancel: () => void } {
  let cancel: () => void;
  const promise = new Promise<typeof idle>((resolve) => {
    const done = () => {
      resolve(idle);
    };
    if (ms <= 0) {
      const immediate = setImmediate(done);
      cancel = () => {
        clearImmediate(immediate);
      };
    } else {
      const timer = setTimeout(done, ms);
      cancel = () => {
        clearTimeout(timer);
      };
    }
  });
  // The executor runs synchronously, so cancel is set.
  return {
    promise,
    cancel: () => {
      cancel();
    },
  };
}
