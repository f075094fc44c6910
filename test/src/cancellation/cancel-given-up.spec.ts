import { ConsumerName, StreamName } from "@conveyor/contracts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { consumerSettled } from "../support/nats-suite.ts";
import { System, uniqueType } from "./system.ts";

/**
 * A cancel the dispatcher gave up on (its `cancelled` event could never be stored) must still end
 * with the job cancelled: the record in the bucket stays, and so does a scheduled job's held work
 * item, whose worker then skips it and records the cancel itself.
 */
describe("a cancel whose event could not be stored", () => {
  let system: System;

  beforeAll(async () => {
    system = await System.start({ commandGiveUpAfterDeliveries: 2 });
  });

  afterAll(async () => {
    await system[Symbol.asyncDispose]();
  });

  it("leaves a scheduled job's hold, so the job still ends cancelled and never runs", async () => {
    const type = uniqueType("cancel-held");
    await system.register({ type, retry: { maxAttempts: 3 } });
    const id = await system.submit(type, { n: 1 }, { delayMs: 5000 });
    await system.waitForJob(id, (job) => job.status === "queued", "job queued");

    // No `cancelled` event can be stored while `EVENTS` refuses it for its size, an answer about
    // the message (an outage would be retried until it ends): the dispatcher gives up on the
    // command.
    const events = await system.jsm.streams.info(StreamName.Events);
    await system.jsm.streams.update(StreamName.Events, { max_msg_size: 64 });
    try {
      expect((await system.post(`/v1/jobs/${id}/cancel`, { reason: "not needed" })).status).toBe(
        202,
      );
      const { state } = await system.jsm.streams.info(StreamName.Jobs);
      await consumerSettled(system.jsm, StreamName.Jobs, ConsumerName.DispatcherCommands, {
        through: state.last_seq,
        timeoutMs: 20_000,
      });
    } finally {
      await system.jsm.streams.update(StreamName.Events, {
        max_msg_size: events.config.max_msg_size,
      });
    }

    const ran: string[] = [];
    await system.worker({
      handlers: {
        [type]: (job) => {
          ran.push(job.id);
          return "ran";
        },
      },
    });
    const job = await system.waitForJob(id, (j) => j.status === "cancelled", "cancelled", 30_000);
    expect(job.reason).toBe("not needed");
    expect(ran).toEqual([]);
  });
});
