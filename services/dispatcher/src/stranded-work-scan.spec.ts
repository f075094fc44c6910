import type { ConsumerInfo } from "@nats-io/jetstream";
import { describe, expect, it } from "vitest";

import { deliveredWindow } from "./stranded-work-scan.ts";

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
