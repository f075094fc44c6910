import { StreamName, workConsumerName } from "@conveyor/contracts";
import { ensureTopology } from "@conveyor/topology";
import { describe, expect, it } from "vitest";

import { uniqueType, useWorkFixture } from "./work-fixture.ts";

describe("a worker whose work consumer is deleted", () => {
  const fx = useWorkFixture();

  it("creates its consumer again and runs the jobs queued after", async () => {
    const type = uniqueType("gone");
    await fx.worker({ handlers: { [type]: (payload) => Promise.resolve(payload) } });
    const before = await fx.enqueue(type, { n: 1 });
    await fx.eventsUntil(before.id, "succeeded");

    // `nats consumer rm WORK work_<type>`, or a topology reset that lost it.
    await fx.jsm.consumers.delete(StreamName.Work, workConsumerName(type));
    const after = await fx.enqueue(type, { n: 2 });
    await fx.eventsUntil(after.id, "succeeded");
    expect(await fx.workLeft(type)).toBe(0);
  });

  it("waits for a WORK stream provisioned anew, then runs its jobs", async () => {
    const type = uniqueType("reset");
    await fx.worker({ handlers: { [type]: (payload) => Promise.resolve(payload) } });
    // JetStream's state lost and provisioned again: the stream, and every consumer with it.
    await fx.jsm.streams.delete(StreamName.Work);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    await ensureTopology(fx.jsm);
    const item = await fx.enqueue(type, { n: 3 });
    await fx.eventsUntil(item.id, "succeeded");
    expect(await fx.workLeft(type)).toBe(0);
  });
});
