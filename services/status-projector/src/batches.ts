const idle = Symbol("idle");

/**
 * Groups the items of an async iterator into batches of up to `max`: a batch starts with the next
 * item (waiting for it) and takes every further item that has already arrived, waiting at most
 * `lingerMs` for more. Under load batches fill up; when idle an item is passed on at once.
 */
export async function* batches<T>(
  source: AsyncIterable<T>,
  max: number,
  lingerMs = 0,
): AsyncGenerator<T[]> {
  const iterator = source[Symbol.asyncIterator]();
  let pending = iterator.next();
  for (;;) {
    const first = await pending;
    if (first.done === true) return;
    const batch = [first.value];
    pending = iterator.next();
    let ended = false;
    while (batch.length < max) {
      const next = await Promise.race([pending, pause(lingerMs)]);
      if (next === idle) break;
      if (next.done === true) {
        ended = true;
        break;
      }
      batch.push(next.value);
      pending = iterator.next();
    }
    yield batch;
    if (ended) return;
  }
}

function pause(ms: number): Promise<typeof idle> {
  return new Promise((resolve) => {
    if (ms <= 0)
      setImmediate(() => {
        resolve(idle);
      });
    else
      setTimeout(() => {
        resolve(idle);
      }, ms);
  });
}
