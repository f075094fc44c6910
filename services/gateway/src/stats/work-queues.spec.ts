import type { ConsumerInfo } from "@nats-io/jetstream";
import { describe, expect, it } from "vitest";

import { consumerStats } from "./work-queues.ts";

/** Only the fields `consumerStats` reads. */
interface LaneInfo {
  num_pending: number;
  num_ack_pending: number;
  num_redelivered: number;
  paused?: boolean;
  config: { pause_until?: string };
}

const lane = (priority: number, info: LaneInfo | undefined) => ({
  priority,
  info: info as ConsumerInfo | undefined,
});

const counters = { num_pending: 0, num_ack_pending: 0, num_redelivered: 0, config: {} };

describe("consumerStats", () => {
  it("adds up the pending, ack-pending and redelivered counters of every lane", () => {
    const stats = consumerStats("work_echo", [
      lane(9, { ...counters, num_pending: 3, num_ack_pending: 1 }),
      lane(5, {
        num_pending: 4,
        num_ack_pending: 2,
        num_redelivered: 1,
        config: { pause_until: "2026-12-07T10:00:00Z" },
      }),
      lane(0, { ...counters, num_redelivered: 2 }),
      lane(1, undefined),
    ]);
    expect(stats).toEqual({
      name: "work_echo",
      exists: true,
      numPending: 7,
      numAckPending: 3,
      numRedelivered: 3,
      pendingByPriority: { "9": 3, "5": 4 },
      paused: false,
    });
  });

  it("reads a pause with its time, and a pause until resumed without one", () => {
    const pausedUntil = (until: string) =>
      consumerStats("work_echo", [
        lane(5, { ...counters, paused: true, config: { pause_until: until } }),
      ]);
    expect(pausedUntil("2026-12-07T10:00:00.5Z")).toMatchObject({
      paused: true,
      pausedUntil: "2026-12-07T10:00:00.500Z",
    });
    const forGood = pausedUntil("9999-12-31T23:59:59Z");
    expect(forGood).toMatchObject({ paused: true });
    expect(forGood).not.toHaveProperty("pausedUntil");
  });

  it("shows a type paused when any of its lanes is, so that a half-done resume is asked again", () => {
    const stats = consumerStats("work_echo", [
      lane(9, { ...counters, paused: true, config: { pause_until: "9999-12-31T23:59:59Z" } }),
      lane(5, counters),
    ]);
    expect(stats).toMatchObject({ paused: true });
    expect(stats).not.toHaveProperty("pausedUntil");
  });

  it("gives zeros for a type no worker has created the consumers of yet", () => {
    expect(consumerStats("work_echo", [lane(9, undefined), lane(5, undefined)])).toEqual({
      name: "work_echo",
      exists: false,
      numPending: 0,
      numAckPending: 0,
      numRedelivered: 0,
      pendingByPriority: {},
      paused: false,
    });
  });
});
