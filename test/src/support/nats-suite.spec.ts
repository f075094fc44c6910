import { ConsumerName, StreamName } from "@conveyor/contracts";
import { WaitTimeoutError } from "@conveyor/testing";
import { describe, expect, it } from "vitest";

import { consumerSettled, useNatsSuite } from "./nats-suite.ts";

describe("consumerSettled", () => {
  const suite = useNatsSuite("nats-suite-test");
  const settled = (through: number) =>
    consumerSettled(suite.jsm, StreamName.Jobs, ConsumerName.DispatcherBulkIntake, {
      through,
      timeoutMs: 300,
    });

  it("is not settled until the consumer has delivered and had acknowledged the message given", async () => {
    const { seq } = await suite.js.publish("jobs.bulk.echo", JSON.stringify({ jobs: [{}] }));
    // Nobody has read it yet.
    await expect(settled(seq)).rejects.toBeInstanceOf(WaitTimeoutError);

    const consumer = await suite.js.consumers.get(
      StreamName.Jobs,
      ConsumerName.DispatcherBulkIntake,
    );
    const msg = await consumer.next({ expires: 2000 });
    expect(msg?.seq).toBe(seq);
    // Delivered, not acknowledged yet.
    await expect(settled(seq)).rejects.toBeInstanceOf(WaitTimeoutError);

    await msg?.ackAck();
    await expect(settled(seq)).resolves.toBeUndefined();
  });

  it("is not settled through a message the consumer has not counted yet", async () => {
    // The server counts a stored message into a consumer's pending ones a moment after its PubAck
    // (2 of 2,000 consumer infos read right after a PubAck missed it): an idle consumer that has
    // not counted it yet is in the state tested here, pending nothing, with the message ahead.
    const consumer = await suite.js.consumers.get(
      StreamName.Jobs,
      ConsumerName.DispatcherBulkIntake,
    );
    const { seq } = await suite.js.publish("jobs.bulk.echo", JSON.stringify({ jobs: [{}] }));
    await (await consumer.next({ expires: 2000 }))?.ackAck();
    await expect(settled(seq)).resolves.toBeUndefined();
    await expect(settled(seq + 1)).rejects.toBeInstanceOf(WaitTimeoutError);
  });
});
