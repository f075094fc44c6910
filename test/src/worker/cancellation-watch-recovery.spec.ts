import { setTimeout as sleep } from "node:timers/promises";

import { KvBucket } from "@conveyor/contracts";
import type { CancellationRecord } from "@conveyor/contracts";
import { waitFor } from "@conveyor/testing";
import { ensureTopology } from "@conveyor/topology";
import type { JobContext } from "@conveyor/worker-sdk";
import { Kvm } from "@nats-io/kv";
import { beforeAll, describe, expect, it } from "vitest";

import { uniqueType, useWorkFixture } from "./work-fixture.ts";

describe("a worker's cancellations watch", () => {
  // A test restarts nats-server: the connection must keep reconnecting until it is back.
  const fx = useWorkFixture({ maxReconnectAttempts: -1 });
  const type = uniqueType("sleep");
  /** Job id -> the reason its handler's signal fired with. */
  const aborted = new Map<string, unknown>();
  const started = new Set<string>();

  const cancel = async (jobId: string) => {
    const kv = await new Kvm(fx.nc).open(KvBucket.Cancellations);
    const record: CancellationRecord = {
      run: 1,
      reason: "not needed",
      requestedAt: new Date().toISOString(),
    };
    await kv.put(jobId, JSON.stringify(record));
  };

  /** Enqueues a job, waits until its handler runs, cancels it and expects the worker to stop it. */
  const expectRunningJobCancelled = async () => {
    const item = await fx.enqueue(type, {});
    await waitFor(() => Promise.resolve(started.has(item.id)), { message: "job never started" });
    await cancel(item.id);
    const events = await fx.eventsUntil(item.id, "cancelled");
    expect(events.map((e) => e.kind)).toEqual(["started", "cancelled"]);
    expect(aborted.get(item.id)).toMatchObject({ name: "JobCancelledError" });
  };

  beforeAll(async () => {
    await fx.worker({
      handlers: {
        [type]: async (job: { id: string }, ctx: JobContext) => {
          started.add(job.id);
          try {
            await sleep(60_000, undefined, { signal: ctx.signal });
          } catch (err) {
            aborted.set(job.id, ctx.signal.reason);
            throw err;
          }
          return "slept";
        },
      },
    });
  });

  it("still reaches running jobs after the bucket is deleted and recreated", async () => {
    await expectRunningJobCancelled();
    await fx.jsm.streams.delete(`KV_${KvBucket.Cancellations}`);
    await ensureTopology(fx.jsm);
    await expectRunningJobCancelled();
  });

  it("still reaches running jobs after nats-server restarts", async () => {
    await fx.server.restart();
    await waitFor(async () => {
      await fx.jsm.streams.info(`KV_${KvBucket.Cancellations}`);
      return true;
    });
    await expectRunningJobCancelled();
  });
});
