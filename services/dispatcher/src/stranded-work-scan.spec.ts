import { createLogger } from "@conveyor/service-kit";
import type { ConsumerInfo, JetStreamManager } from "@nats-io/jetstream";
import { describe, expect, it } from "vitest";

import type { ExhaustedWork } from "./exhausted-work.ts";
import { deliveredWindow, scanStrandedWork } from "./stranded-work-scan.ts";

function info(overrides: {
  filter?: string;
  maxDeliver?: number;
  ackFloor: number;
  delivered: number;
}): ConsumerInfo {
  return {
    name: "work_t",
    config: {
      filter_subject: overrides.filter ?? "work.t",
      max_deliver: overrides.maxDeliver ?? 2,
    },
    ack_floor: { stream_seq: overrides.ackFloor, consumer_seq: 0 },
    delivered: { stream_seq: overrides.delivered, consumer_seq: 0 },
  } as unknown as ConsumerInfo;
}

describe("deliveredWindow", () => {
  it("reaches the last delivered sequence, whatever the ack floor", () => {
    // A stranded message leaves the pending set, so acknowledgements can lift the floor past it.
    expect(deliveredWindow(info({ ackFloor: 9, delivered: 9 }))).toEqual({
      subject: "work.t",
      toSeq: 9,
      maxDeliver: 2,
    });
  });

  it("is empty before anything was delivered", () => {
    expect(deliveredWindow(info({ ackFloor: 0, delivered: 0 }))).toBeUndefined();
  });

  it("skips consumers that cannot strand messages", () => {
    expect(deliveredWindow(info({ maxDeliver: -1, ackFloor: 0, delivered: 5 }))).toBeUndefined();
    expect(deliveredWindow(info({ filter: "", ackFloor: 0, delivered: 5 }))).toBeUndefined();
  });
});

describe("scanStrandedWork", () => {
  /**
   * A work stream holding one delivered message (seq 5) on `work.t`, whose consumer is idle. The
   * message disappears after `lookups` reads, as an acknowledged message does a moment after the
   * server dropped it from the pending set.
   */
  function fakeStream(options: { lookups: number; pendingOnRecheck?: number }) {
    let reads = 0;
    let infos = 0;
    const idle = { ...info({ ackFloor: 0, delivered: 5, maxDeliver: 7 }), num_ack_pending: 0 };
    const jsm = {
      consumers: {
        list: () => {
          infos++;
          return [idle];
        },
        info: () => {
          infos++;
          return Promise.resolve({ ...idle, num_ack_pending: options.pendingOnRecheck ?? 0 });
        },
      },
      streams: {
        getMessage: (_stream: string, query: { seq: number }) => {
          if (query.seq > 5) return Promise.resolve(null);
          reads++;
          return Promise.resolve(reads <= options.lookups ? { seq: 5 } : null);
        },
      },
    } as unknown as JetStreamManager;
    const deadLettered: [number, number][] = [];
    const exhausted = {
      deadLetter: (seq: number, deliveries: number) => {
        deadLettered.push([seq, deliveries]);
        return Promise.resolve({ kind: "dead-lettered", seq, jobId: "job-1", type: "t" });
      },
    } as unknown as ExhaustedWork;
    const deps = {
      jsm,
      exhausted,
      logger: createLogger("scan-test", "silent"),
      scanLimit: 10,
      confirmDelayMs: 1,
    };
    return { deps, deadLettered, infos: () => infos };
  }

  it("leaves alone a message that was only being acknowledged when first seen", async () => {
    const { deps, deadLettered } = fakeStream({ lookups: 1 });
    const report = await scanStrandedWork(deps);
    expect(deadLettered).toEqual([]);
    expect(report).toMatchObject({ deadLettered: 0, failed: 0 });
  });

  it("dead-letters a message still stranded when looked at again, with its deliveries", async () => {
    const { deps, deadLettered } = fakeStream({ lookups: 100 });
    const report = await scanStrandedWork(deps);
    expect(deadLettered).toEqual([[5, 7]]);
    expect(report).toMatchObject({ deadLettered: 1, failed: 0 });
  });

  it("defers when the consumer got deliveries in flight before the second look", async () => {
    const { deps, deadLettered } = fakeStream({ lookups: 100, pendingOnRecheck: 1 });
    const report = await scanStrandedWork(deps);
    expect(deadLettered).toEqual([]);
    expect(report).toMatchObject({ deadLettered: 0, deferred: 1 });
  });
});
