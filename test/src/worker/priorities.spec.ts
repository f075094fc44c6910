import { setTimeout as sleep } from "node:timers/promises";

import { StreamName, Subject, workConsumerName } from "@conveyor/contracts";
import { AckPolicy } from "@nats-io/jetstream";
import { afterEach, describe, expect, it } from "vitest";

import { uniqueType, useWorkFixture } from "./work-fixture.ts";

describe("priorities against a real nats-server", () => {
  const fx = useWorkFixture();
  afterEach(() => fx.stopWorkers());

  it("runs every waiting job of a higher priority first, whatever was queued before it", async () => {
    const type = uniqueType("ranked");
    const queued: { id: string; priority: number }[] = [];
    // Queued before any worker, lowest first: a stream alone would hand them out in this order.
    for (const priority of [1, 5, 9, 1, 5, 9, 1, 5, 9, 0]) {
      const item = await fx.enqueue(type, null, { priority });
      queued.push({ id: item.id, priority });
    }
    const started: string[] = [];
    await fx.worker({
      handlers: {
        [type]: {
          concurrency: 1,
          handler: (job) => {
            started.push(job.id);
            return "done";
          },
        },
      },
    });
    for (const { id } of queued) await fx.eventsUntil(id, "succeeded");
    const expected = [...queued].sort((a, b) => b.priority - a.priority).map(({ id }) => id);
    expect(started).toEqual(expected);
  });

  it("starts a job of a higher priority before the rest of a backlog that was there first", async () => {
    const type = uniqueType("urgent");
    const started: number[] = [];
    await fx.worker({
      handlers: {
        [type]: {
          concurrency: 2,
          handler: async (job) => {
            started.push(job.priority);
            await sleep(40);
            return "done";
          },
        },
      },
    });
    const backlog = await Promise.all(
      Array.from({ length: 30 }, () => fx.enqueue(type, null, { priority: 2 })),
    );
    await fx.eventsUntil(backlog[3]?.id ?? "", "started");
    const urgent = await fx.enqueue(type, null, { priority: 8 });
    await fx.eventsUntil(urgent.id, "succeeded");
    // Started among the next few, with most of the backlog still waiting.
    const at = started.indexOf(8);
    expect(at).toBeGreaterThan(0);
    expect(at).toBeLessThan(10);
    for (const item of backlog) await fx.eventsUntil(item.id, "succeeded");
  });

  it("has replicas sharing a type start every waiting job of a higher priority before a lower one", async () => {
    const type = uniqueType("shared");
    const high = await Promise.all(
      Array.from({ length: 10 }, () => fx.enqueue(type, null, { priority: 9 })),
    );
    const low = await Promise.all(
      Array.from({ length: 10 }, () => fx.enqueue(type, null, { priority: 4 })),
    );
    const started: number[] = [];
    const definition = {
      concurrency: 2,
      handler: async (job: { priority: number }) => {
        started.push(job.priority);
        await sleep(30);
        return "done";
      },
    };
    await fx.worker({ handlers: { [type]: definition } });
    await fx.worker({ handlers: { [type]: definition } });
    for (const item of [...high, ...low]) await fx.eventsUntil(item.id, "succeeded");
    // Each replica learns what waits from its own pulls; neither starts a 4 while 9s wait.
    expect(started.lastIndexOf(9)).toBeLessThan(started.indexOf(4));
    expect(started).toHaveLength(20);
  });

  it("pauses the lanes it creates for a type paused before them", async () => {
    const type = uniqueType("paused");
    // The type's consumer as a release before lanes made it, paused.
    await fx.jsm.consumers.add(StreamName.Work, {
      durable_name: workConsumerName(type),
      filter_subject: Subject.work(type),
      ack_policy: AckPolicy.Explicit,
    });
    await fx.jsm.consumers.pause(
      StreamName.Work,
      workConsumerName(type),
      new Date(Date.now() + 60_000),
    );
    let runs = 0;
    await fx.worker({
      handlers: {
        [type]: () => {
          runs++;
          return "done";
        },
      },
    });
    await fx.enqueue(type, null, { priority: 9 });
    await fx.enqueue(type, null, { priority: 0 });
    await sleep(1_500);
    expect(runs).toBe(0);
    for (const priority of [9, 0]) {
      const lane = await fx.jsm.consumers.info(StreamName.Work, workConsumerName(type, priority));
      expect(lane.paused).toBe(true);
      expect(lane.num_pending).toBe(1);
    }
  });
});
