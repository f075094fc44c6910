import { ConsumerName, KvBucket, StreamName } from "@conveyor/contracts";
import { waitFor } from "@conveyor/testing";
import { ensureTopology } from "@conveyor/topology";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";

import { consumerSettled } from "../support/nats-suite.ts";
import { sealStream } from "../support/sealed-stream.ts";
import { System, uniqueType } from "./system.ts";

/**
 * A command the dispatcher gave up on (every delivery failed) was accepted with a 202 and never
 * carried out: the operator's answer is to send it again once the cause is mended, and that
 * repeat must be carried out, not stored as a duplicate of the one given up on.
 */
describe("a command sent again after the dispatcher gave up on it", () => {
  let system: System;

  beforeAll(async () => {
    system = await System.start({ commandGiveUpAfterDeliveries: 2 });
  });

  afterEach(async () => {
    await system.stopWorkers();
    await ensureTopology(system.jsm);
  });

  afterAll(async () => {
    await system[Symbol.asyncDispose]();
  });

  /** Waits until the dispatcher has carried out or given up on every command stored so far. */
  async function commandsSettled(): Promise<void> {
    const { state } = await system.jsm.streams.info(StreamName.Jobs);
    await consumerSettled(system.jsm, StreamName.Jobs, ConsumerName.DispatcherCommands, {
      through: state.last_seq,
      timeoutMs: 20_000,
    });
  }

  it("cancels the job", async () => {
    const type = uniqueType("cancel-again");
    await system.register({ type, retry: { maxAttempts: 3 } });
    const id = await system.submit(type, { n: 1 });
    await system.waitForJob(id, (job) => job.status === "queued", "job queued");

    // The cancel cannot be recorded while the bucket refuses it (sealed: an answer about the
    // request, not an outage, which would be retried until it ends), so the dispatcher gives up.
    await sealStream(system.jsm, `KV_${KvBucket.Cancellations}`);
    expect((await system.post(`/v1/jobs/${id}/cancel`)).status).toBe(202);
    await commandsSettled();
    expect((await system.get(`/v1/jobs/${id}`)).body).toMatchObject({ status: "queued" });

    await system.jsm.streams.delete(`KV_${KvBucket.Cancellations}`);
    await ensureTopology(system.jsm);
    expect((await system.post(`/v1/jobs/${id}/cancel`)).status).toBe(202);
    await system.waitForJob(id, (job) => job.status === "cancelled", "cancelled by the repeat");
  });

  it("replays the dead letter", async () => {
    const type = uniqueType("replay-again");
    const broken = { value: true };
    await system.worker({
      handlers: {
        [type]: {
          retry: { maxAttempts: 1 },
          handler: () => {
            if (broken.value) throw new Error("downstream unavailable");
            return "done";
          },
        },
      },
    });
    const id = await system.submit(type, { n: 1 });
    await system.waitForJob(id, (job) => job.status === "dead", "dead");
    await waitFor(async () => (await system.get(`/v1/dlq/${id}`)).status === 200, {
      message: "letter projected",
    });
    broken.value = false;

    // The replay's work item cannot be stored while WORK refuses it (sealed), so the dispatcher
    // gives up on it.
    await sealStream(system.jsm, StreamName.Work);
    expect((await system.post(`/v1/dlq/${id}/replay`)).status).toBe(202);
    await commandsSettled();
    expect((await system.get(`/v1/jobs/${id}`)).body).toMatchObject({ status: "dead", run: 1 });
    await system.jsm.streams.delete(StreamName.Work);

    // The worker's consumer went with the stream: a new replica makes it again.
    await ensureTopology(system.jsm);
    await system.stopWorkers();
    await system.worker({
      handlers: { [type]: { retry: { maxAttempts: 1 }, handler: () => "done" } },
    });
    expect((await system.post(`/v1/dlq/${id}/replay`)).status).toBe(202);
    const done = await system.waitForJob(id, (job) => job.status === "succeeded", "replayed");
    expect(done).toMatchObject({ run: 2 });
  });
});
