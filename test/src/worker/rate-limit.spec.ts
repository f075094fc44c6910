import { KvBucket } from "@conveyor/contracts";
import { waitFor } from "@conveyor/testing";
import { WorkerConfigError } from "@conveyor/worker-sdk";
import { Kvm } from "@nats-io/kv";
import { afterEach, describe, expect, it } from "vitest";

import { uniqueType, useWorkFixture } from "./work-fixture.ts";

describe("rate limits against a real nats-server", () => {
  const fx = useWorkFixture();
  afterEach(() => fx.stopWorkers());

  it("starts at most max jobs of the type per window across workers, and every job in the end", async () => {
    const type = uniqueType("limited");
    const rateLimit = { max: 3, perMs: 1000 };
    const startedAt: number[] = [];
    const definition = {
      rateLimit,
      concurrency: 4,
      handler: () => {
        startedAt.push(Date.now());
        return "done";
      },
    };
    // Two replicas with eight slots between them, sharing the limit.
    await fx.worker({ handlers: { [type]: definition } });
    await fx.worker({ handlers: { [type]: definition } });
    const items = await Promise.all(Array.from({ length: 9 }, () => fx.enqueue(type, null)));
    await waitFor(() => Promise.resolve(startedAt.length === items.length), {
      timeoutMs: 15_000,
      message: "every job started",
    });
    const perWindow = new Map<number, number>();
    for (const at of startedAt) {
      const window = Math.floor(at / rateLimit.perMs);
      perWindow.set(window, (perWindow.get(window) ?? 0) + 1);
    }
    expect(Math.max(...perWindow.values())).toBeLessThanOrEqual(rateLimit.max);
    expect(perWindow.size).toBeGreaterThanOrEqual(3);
    for (const item of items) await fx.eventsUntil(item.id, "succeeded");

    // Each window's count is in the bucket, under the type and the window's number.
    const kv = await new Kvm(fx.nc).open(KvBucket.RateLimits);
    const [firstWindow] = [...perWindow.keys()].sort((a, b) => a - b);
    const counted = await kv.get(`${type}.${String(firstWindow)}`);
    expect(Number(counted?.string())).toBe(perWindow.get(firstWindow ?? 0));
  });

  it("refuses a rate limit it cannot keep, naming it", async () => {
    const type = uniqueType("badly-limited");
    for (const rateLimit of [
      { max: 0, perMs: 1000 },
      { max: 1, perMs: 10 },
      { max: 1, perMs: 7_200_000 },
      { max: 1 },
    ]) {
      await expect(
        fx.worker({ handlers: { [type]: { rateLimit, handler: () => null } as never } }),
      ).rejects.toThrow(WorkerConfigError);
      await expect(
        fx.worker({ handlers: { [type]: { rateLimit, handler: () => null } as never } }),
      ).rejects.toThrow(new RegExp(`handlers\\.${type.replaceAll(".", "\\.")}\\.rateLimit`));
    }
  });
});
