import type { ConsumerInfo } from "@nats-io/jetstream";
import { describe, expect, it } from "vitest";

import { consumerStats } from "./work-queues.ts";

describe("consumerStats", () => {
  it("reads the pending, ack-pending and redelivered counters", () => {
    const info = {
      num_pending: 4,
      num_ack_pending: 2,
      num_redelivered: 1,
      config: { pause_until: "2026-12-07T10:00:00Z" },
    } as ConsumerInfo;
    expect(consumerStats("work_echo", info)).toEqual({
      name: "work_echo",
      exists: true,
      numPending: 4,
      numAckPending: 2,
      numRedelivered: 1,
      paused: false,
    });
  });

  it("reads a pause with its time, and a pause until resumed without one", () => {
    const pausedUntil = (until: string) =>
      consumerStats("work_echo", { paused: true, config: { pause_until: until } } as ConsumerInfo);
    expect(pausedUntil("2026-12-07T10:00:00.5Z")).toMatchObject({
      paused: true,
      pausedUntil: "2026-12-07T10:00:00.500Z",
    });
    const forGood = pausedUntil("9999-12-31T23:59:59Z");
    expect(forGood).toMatchObject({ paused: true });
    expect(forGood).not.toHaveProperty("pausedUntil");
  });

  it("gives zeros for a consumer no worker has created yet", () => {
    expect(consumerStats("work_echo", undefined)).toEqual({
      name: "work_echo",
      exists: false,
      numPending: 0,
      numAckPending: 0,
      numRedelivered: 0,
      paused: false,
    });
  });
});
