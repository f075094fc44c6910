import type { ConsumerInfo } from "@nats-io/jetstream";
import { describe, expect, it } from "vitest";

import { consumerStats } from "./work-queues.ts";

describe("consumerStats", () => {
  it("reads the pending, ack-pending and redelivered counters", () => {
    const info = { num_pending: 4, num_ack_pending: 2, num_redelivered: 1 } as ConsumerInfo;
    expect(consumerStats("work_echo", info)).toEqual({
      name: "work_echo",
      exists: true,
      numPending: 4,
      numAckPending: 2,
      numRedelivered: 1,
    });
  });

  it("gives zeros for a consumer no worker has created yet", () => {
    expect(consumerStats("work_echo", undefined)).toEqual({
      name: "work_echo",
      exists: false,
      numPending: 0,
      numAckPending: 0,
      numRedelivered: 0,
    });
  });
});
