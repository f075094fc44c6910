import { setTimeout as sleep } from "node:timers/promises";

import { describe, expect, it } from "vitest";

import { batches } from "./batches.ts";

/** A source that yields `ready` at once, then each later item after a macrotask. */
async function* source(ready: number[], later: number[]): AsyncGenerator<number> {
  yield* ready;
  for (const item of later) {
    await new Promise((resolve) => setTimeout(resolve, 5));
    yield item;
  }
}

async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const result: T[] = [];
  for await (const item of iterable) result.push(item);
  return result;
}

describe("batches", () => {
  it("groups what has already arrived, up to the maximum", async () => {
    expect(await collect(batches(source([1, 2, 3, 4, 5], []), 2))).toEqual([[1, 2], [3, 4], [5]]);
  });

  it("passes on a batch without waiting for items that have not arrived", async () => {
    expect(await collect(batches(source([1, 2], [3, 4]), 10))).toEqual([[1, 2], [3], [4]]);
  });

  it("ends a batch before an item that would take it past its bytes, which starts the next", async () => {
    const bytes = { max: 10, sizeOf: (n: number) => n };
    expect(await collect(batches(source([4, 5, 2, 12, 3, 7], []), 100, 0, bytes))).toEqual([
      [4, 5],
      [2],
      [12],
      [3, 7],
    ]);
  });

  it("keeps the item that did not fit when the source ends after it", async () => {
    const bytes = { max: 5, sizeOf: (n: number) => n };
    expect(await collect(batches(source([4], [3]), 100, 50, bytes))).toEqual([[4], [3]]);
  });

  it("waits up to the linger time for more items", async () => {
    expect(await collect(batches(source([1], [2, 3]), 10, 200))).toEqual([[1, 2, 3]]);
  });

  it("counts the linger time from a batch's first item, not from the latest one", async () => {
    // Items every 5 ms: with 12 ms of linger a batch holds about three, however long the stream.
    const sizes = (await collect(batches(source([], [1, 2, 3, 4, 5, 6, 7, 8, 9]), 100, 12))).map(
      (batch) => batch.length,
    );
    expect(sizes.length).toBeGreaterThanOrEqual(3);
    expect(Math.max(...sizes)).toBeLessThan(9);
  });

  it("does not linger when handling the last batch took longer than the linger time", async () => {
    const items = Array.from({ length: 100 }, (_, i) => i);
    const iterator = batches(source([], items), 100, 200)[Symbol.asyncIterator]();
    await iterator.next();
    // Handling the batch (a database write) takes a while, and items keep arriving meanwhile.
    await sleep(250);
    const asked = Date.now();
    const second = await iterator.next();

    expect(second.done).toBe(false);
    expect((second.value as number[]).length).toBeGreaterThan(0);
    expect(Date.now() - asked).toBeLessThan(100);
    await iterator.return(undefined);
  });

  it("holds a failure that comes while a full batch is being handled until the next is asked for", async () => {
    // The consumer is deleted while the loop stores a full batch: the source's next item fails.
    const failing = {
      [Symbol.asyncIterator]: () => {
        let given = 0;
        return {
          next: (): Promise<IteratorResult<number>> =>
            ++given <= 2
              ? Promise.resolve({ done: false, value: given })
              : sleep(5).then(() => Promise.reject(new Error("consumer deleted"))),
        };
      },
    };
    const unhandled: unknown[] = [];
    const record = (reason: unknown) => unhandled.push(reason);
    process.on("unhandledRejection", record);
    try {
      const iterator = batches(failing, 2)[Symbol.asyncIterator]();
      expect(await iterator.next()).toEqual({ done: false, value: [1, 2] });
      await sleep(30); // storing the batch
      await expect(iterator.next()).rejects.toThrow("consumer deleted");
      await sleep(0);
      expect(unhandled).toEqual([]);
    } finally {
      process.off("unhandledRejection", record);
    }
  });
});
