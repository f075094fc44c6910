import { setTimeout as sleep } from "node:timers/promises";

import { KvBucket } from "@conveyor/contracts";
import { waitFor } from "@conveyor/testing";
import { ensureTopology } from "@conveyor/topology";
import { WorkerConfigError } from "@conveyor/worker-sdk";
import { Kvm } from "@nats-io/kv";
import { afterEach, describe, expect, it } from "vitest";

import { uniqueType, useWorkFixture } from "./work-fixture.ts";

describe("rate limits against a real nats-server", () => {
  const fx = useWorkFixture();
  afterEach(() => fx.stopWorkers());

  /** Each window's count of the type's starts, from the bucket. */
  async function countsOf(type: string): Promise<number[]> {
    const kv = await new Kvm(fx.nc).open(KvBucket.RateLimits);
    const counts: number[] = [];
    for await (const key of await kv.keys(`${type}.*`)) {
      counts.push(Number((await kv.get(key))?.string()));
    }
    return counts;
  }

  it("starts at most max jobs of the type per window across workers, and every job in the end", async () => {
    const type = uniqueType("limited");
    const rateLimit = { max: 3, perMs: 1000 };
    let started = 0;
    const definition = {
      rateLimit,
      concurrency: 4,
      handler: () => {
        started++;
        return "done";
      },
    };
    // Two replicas with eight slots between them, sharing the limit.
    await fx.worker({ handlers: { [type]: definition } });
    await fx.worker({ handlers: { [type]: definition } });
    const began = Date.now();
    const items = await Promise.all(Array.from({ length: 9 }, () => fx.enqueue(type, null)));
    for (const item of items) await fx.eventsUntil(item.id, "succeeded");
    expect(started).toBe(items.length);
    // Nine starts at three a window take three windows: the first one's end and two more.
    expect(Date.now() - began).toBeGreaterThan(rateLimit.perMs);
    const counts = await countsOf(type);
    expect(counts.reduce((sum, n) => sum + n, 0)).toBe(items.length);
    expect(Math.max(...counts)).toBeLessThanOrEqual(rateLimit.max);
  });

  it("returns the jobs waiting for the limit at once when the worker stops, not counting them", async () => {
    const type = uniqueType("held");
    const worker = await fx.worker({
      handlers: { [type]: { rateLimit: { max: 1, perMs: 3_600_000 }, handler: () => "done" } },
    });
    const items = await Promise.all(Array.from({ length: 3 }, () => fx.enqueue(type, null)));
    // One starts this hour; the other two wait for the next.
    await waitFor(async () => (await fx.workLeft(type)) === 2, { message: "one job done" });
    await sleep(200);
    const asked = Date.now();
    await worker.stop({ graceMs: 60_000 });
    expect(Date.now() - asked).toBeLessThan(10_000);
    expect(await fx.workLeft(type)).toBe(2);
    let returned = 0;
    for (const item of items) {
      const events = await fx.events(item.id);
      const failed = events.find((e) => e.kind === "failed");
      if (failed === undefined) continue;
      returned++;
      expect(failed).toMatchObject({ uncounted: 1, unstarted: 1, retryDelayMs: 0 });
    }
    expect(returned).toBe(2);
  });

  it("refuses a rate limit it cannot keep, naming it", async () => {
    const type = uniqueType("badly-limited");
    for (const rateLimit of [
      { max: 0, perMs: 1000 },
      { max: 1, perMs: 10 },
      { max: 1, perMs: 7_200_000 },
      { max: 1 },
    ]) {
      const starting = fx.worker({
        handlers: { [type]: { rateLimit, handler: () => null } as never },
      });
      await expect(starting).rejects.toThrow(WorkerConfigError);
      await expect(starting).rejects.toThrow(
        new RegExp(`handlers\\.${type.replaceAll(".", "\\.")}\\.rateLimit`),
      );
    }
  });

  it("does not start without the bucket its limit needs, naming it", async () => {
    await fx.jsm.streams.delete(`KV_${KvBucket.RateLimits}`);
    try {
      const starting = fx.worker({
        handlers: {
          [uniqueType("unbucketed")]: { rateLimit: { max: 1, perMs: 1000 }, handler: () => null },
        },
      });
      await expect(starting).rejects.toThrow(/conveyor-rate-limits/);
    } finally {
      await ensureTopology(fx.jsm);
    }
  });
});
