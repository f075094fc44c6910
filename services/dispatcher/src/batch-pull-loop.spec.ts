import { setTimeout as sleep } from "node:timers/promises";

import { createLogger } from "@conveyor/service-kit";
import { describe, expect, it } from "vitest";

import { BatchPullLoop } from "./batch-pull-loop.ts";
import type { PullSource } from "./batch-pull-loop.ts";

/**
 * A consumer whose pulls take messages from `backlog`: each pull yields what is there at once (one
 * "socket read"), then whatever `arrive` adds later, until it has `max_messages` or it expires.
 */
class FakeConsumer implements PullSource<number> {
  readonly backlog: number[] = [];
  readonly pulls: number[] = [];
  #wake: (() => void) | undefined;

  arrive(...messages: number[]): void {
    this.backlog.push(...messages);
    this.#wake?.();
  }

  fetch(options: { max_messages: number; expires: number }): Promise<AsyncIterable<number>> {
    this.pulls.push(options.max_messages);
    return Promise.resolve(this.#pull(options.max_messages, Date.now() + options.expires));
  }

  async *#pull(max: number, deadline: number): AsyncGenerator<number> {
    let left = max;
    while (left > 0 && Date.now() < deadline) {
      const message = this.backlog.shift();
      if (message !== undefined) {
        left--;
        yield message;
        continue;
      }
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
        setTimeout(resolve, Math.max(0, deadline - Date.now()));
      });
    }
  }
}

async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await sleep(1);
}

const silent = createLogger("batch-pull-loop-test", "silent");

describe("BatchPullLoop", () => {
  it("hands over what arrives together as one batch, and a later arrival as the next", async () => {
    const consumer = new FakeConsumer();
    consumer.arrive(1, 2, 3, 4, 5);
    const batches: number[][] = [];
    const loop = new BatchPullLoop(
      consumer,
      (batch) => {
        batches.push(batch);
        return Promise.resolve();
      },
      silent,
      { maxHeld: 100, pullExpiresMs: 50 },
    );
    loop.start();
    await until(() => batches.length === 1);
    consumer.arrive(6);
    await until(() => batches.length === 2);
    await loop.stop();
    expect(batches).toEqual([[1, 2, 3, 4, 5], [6]]);
  });

  it("with oneByOne, frees each message's room as it is settled: one slow message does not stop the pulls", async () => {
    // A mailbox of commands: eight arrive together, one of them waits on something slow.
    const consumer = new FakeConsumer();
    consumer.arrive(1, 2, 3, 4, 5, 6, 7, 8);
    let releaseSlow: (() => void) | undefined;
    const handled: number[] = [];
    const loop = new BatchPullLoop(
      consumer,
      async ([message]) => {
        if (message === 1) await new Promise<void>((resolve) => (releaseSlow = resolve));
        handled.push(message!);
      },
      silent,
      { maxHeld: 8, pullExpiresMs: 50, oneByOne: true },
    );
    loop.start();
    await until(() => handled.length === 7);
    consumer.arrive(9);
    await until(() => handled.includes(9));
    releaseSlow?.();
    await loop.stop();
    expect(handled.at(-1)).toBe(1);
  });

  it("never holds more than maxHeld, and pulls again once half of them are settled", async () => {
    const consumer = new FakeConsumer();
    const settle: (() => void)[] = [];
    let held = 0;
    let mostHeld = 0;
    const loop = new BatchPullLoop(
      consumer,
      (batch) => {
        held += batch.length;
        mostHeld = Math.max(mostHeld, held);
        return new Promise<void>((resolve) => {
          settle.push(() => {
            held -= batch.length;
            resolve();
          });
        });
      },
      silent,
      // One pull must stay open across the eight arrivals below: had it expired with fewer than
      // half of them held, the loop would rightly not pull again until some settled, and the test
      // would wait forever (it did, on a busy CI machine, with a 20 ms expiry).
      { maxHeld: 8, pullExpiresMs: 60_000 },
    );
    loop.start();
    // One at a time, so each is a batch of its own.
    for (let i = 0; i < 8; i++) {
      consumer.arrive(i);
      await until(() => held === i + 1);
    }
    consumer.arrive(8, 9, 10, 11);
    await sleep(40);
    expect(held).toBe(8);
    expect(consumer.backlog).toEqual([8, 9, 10, 11]);

    // Three settled leave less than half free: no pull yet.
    for (let i = 0; i < 3; i++) settle.shift()!();
    await sleep(40);
    expect(consumer.backlog).toHaveLength(4);

    // The fourth makes half free: the next pull takes the rest.
    settle.shift()!();
    await until(() => consumer.backlog.length === 0);
    await until(() => held === 8);

    const stopped = loop.stop();
    while (settle.length > 0) settle.shift()!();
    await stopped;
    expect(mostHeld).toBe(8);
    expect(consumer.pulls.every((n) => n <= 8 && n >= 4)).toBe(true);
  });

  it("pulls in batches of at least half of maxHeld while busy", async () => {
    const consumer = new FakeConsumer();
    consumer.arrive(...Array.from({ length: 64 }, (_, i) => i));
    const seen: number[] = [];
    const loop = new BatchPullLoop(
      consumer,
      async (batch) => {
        await sleep(1);
        seen.push(...batch);
      },
      silent,
      { maxHeld: 16, pullExpiresMs: 20 },
    );
    loop.start();
    await sleep(200);
    await loop.stop();
    expect(seen).toEqual(Array.from({ length: 64 }, (_, i) => i));
    expect(consumer.pulls.every((n) => n >= 8)).toBe(true);
  });

  it("finishes the batches it holds on stop and pulls no more", async () => {
    const consumer = new FakeConsumer();
    consumer.arrive(1, 2, 3);
    let finished = 0;
    const loop = new BatchPullLoop(
      consumer,
      async (batch) => {
        await sleep(50);
        finished += batch.length;
      },
      silent,
      { maxHeld: 10, pullExpiresMs: 20 },
    );
    loop.start();
    await sleep(10);
    await loop.stop();
    expect(finished).toBe(3);
    consumer.arrive(4);
    await sleep(30);
    expect(consumer.backlog).toEqual([4]);
  });

  it("keeps pulling after a batch handler rejects", async () => {
    const consumer = new FakeConsumer();
    consumer.arrive(1);
    const seen: number[] = [];
    const loop = new BatchPullLoop(
      consumer,
      (batch) => {
        seen.push(...batch);
        return batch[0] === 1 ? Promise.reject(new Error("boom")) : Promise.resolve();
      },
      silent,
      { maxHeld: 10, pullExpiresMs: 20 },
    );
    loop.start();
    await sleep(10);
    consumer.arrive(2);
    await sleep(30);
    await loop.stop();
    expect(seen).toEqual([1, 2]);
  });

  it("holds at most maxHeld bytes, pulling only as many as fit at perMessage bytes each", async () => {
    const consumer = new FakeConsumer();
    // A message is its own size in bytes.
    consumer.arrive(4, 1, 4, 1, 4, 1);
    const settle: (() => void)[] = [];
    const seen: number[] = [];
    let heldBytes = 0;
    let mostHeldBytes = 0;
    const loop = new BatchPullLoop(
      consumer,
      (batch) => {
        seen.push(...batch);
        const bytes = batch.reduce((sum, size) => sum + size, 0);
        heldBytes += bytes;
        mostHeldBytes = Math.max(mostHeldBytes, heldBytes);
        return new Promise<void>((resolve) => {
          settle.push(() => {
            heldBytes -= bytes;
            resolve();
          });
        });
      },
      silent,
      {
        maxHeld: 100,
        pullExpiresMs: 50,
        bytes: { maxHeld: 10, perMessage: 4, sizeOf: (size) => size },
      },
    );
    loop.start();
    // Room for two of the largest (4 + 1 came), then for one (4): one byte left, less than the
    // largest message, so no pull until some are settled.
    await until(() => heldBytes === 9);
    await sleep(100);
    expect(consumer.pulls).toEqual([2, 1]);
    expect(consumer.backlog).toEqual([1, 4, 1]);

    while (seen.length < 6) {
      settle.shift()?.();
      await sleep(5);
    }
    let stopped = false;
    const stopping = loop.stop().then(() => {
      stopped = true;
    });
    while (!stopped) {
      settle.shift()?.();
      await sleep(5);
    }
    await stopping;
    expect(seen).toEqual([4, 1, 4, 1, 4, 1]);
    expect(mostHeldBytes).toBeLessThanOrEqual(10);
  });

  it("pulls one message when none is held, and none while one larger than the bound is held", async () => {
    const consumer = new FakeConsumer();
    consumer.arrive(5, 1);
    const settle: (() => void)[] = [];
    const loop = new BatchPullLoop(
      consumer,
      () => new Promise<void>((resolve) => settle.push(resolve)),
      silent,
      {
        maxHeld: 100,
        pullExpiresMs: 50,
        bytes: { maxHeld: 3, perMessage: 4, sizeOf: (size) => size },
      },
    );
    loop.start();
    await until(() => settle.length === 1);
    await sleep(100);
    // Five bytes held against a bound of three: no pull, not one of a negative count.
    expect(consumer.pulls).toEqual([1]);
    expect(consumer.backlog).toEqual([1]);

    settle.shift()!();
    await until(() => settle.length === 1);
    expect(consumer.pulls).toEqual([1, 1]);
    const stopping = loop.stop();
    settle.shift()!();
    await stopping;
  });
});
