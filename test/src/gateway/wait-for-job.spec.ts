import { Subject, newJobId } from "@conveyor/contracts";
import { ApiError, ErrorCode, waitForJob } from "@conveyor/gateway";
import { startNatsServer } from "@conveyor/testing";
import type { NatsServerHandle } from "@conveyor/testing";
import { connect } from "@nats-io/transport-node";
import type { NatsConnection } from "@nats-io/transport-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

describe("waitForJob against a real nats-server", () => {
  let server: NatsServerHandle;
  let nc: NatsConnection;

  beforeAll(async () => {
    server = await startNatsServer();
    nc = await connect({ servers: server.url });
  });

  afterAll(async () => {
    await nc.close();
    await server[Symbol.asyncDispose]();
  });

  it("ends at its time, reading the job once more for what it did not hear", async () => {
    let reads = 0;
    const read = () => {
      reads++;
      return Promise.resolve(undefined);
    };
    const asked = Date.now();
    const doc = await waitForJob(nc, newJobId(), 300, read, new AbortController().signal);
    expect(doc).toBeUndefined();
    expect(Date.now() - asked).toBeLessThan(2000);
    expect(reads).toBe(2);
  });

  it("fails as a read without a wait does when the job cannot be read and nothing of it was heard", async () => {
    const refused = new ApiError(503, ErrorCode.Unavailable, "the read model did not answer");
    const read = () => Promise.reject(refused);
    const waiting = waitForJob(nc, newJobId(), 300, read, new AbortController().signal);
    await expect(waiting).rejects.toBe(refused);
  });

  it(
    "fails with a 503, not as a fault of its own, when a read takes too long",
    {
      timeout: 20_000,
    },
    async () => {
      const hanging = () => new Promise<undefined>(() => undefined);
      const waiting = waitForJob(nc, newJobId(), 300, hanging, new AbortController().signal);
      await expect(waiting).rejects.toMatchObject({ status: 503, code: "unavailable" });
    },
  );

  it("stops waiting when its request goes away", async () => {
    const gone = new AbortController();
    setTimeout(() => {
      gone.abort();
    }, 100);
    const asked = Date.now();
    const doc = await waitForJob(
      nc,
      newJobId(),
      30_000,
      () => Promise.resolve(undefined),
      gone.signal,
    );
    expect(doc).toBeUndefined();
    expect(Date.now() - asked).toBeLessThan(2000);
  });

  it("folds the events it hears, and reads the finished job once more for the rest", async () => {
    const id = newJobId();
    let reads = 0;
    const read = () => {
      reads++;
      return Promise.resolve(undefined);
    };
    const waiting = waitForJob(nc, id, 30_000, read, new AbortController().signal);
    await new Promise((resolve) => setTimeout(resolve, 100));
    const event = {
      kind: "succeeded",
      jobId: id,
      type: "echo",
      run: 1,
      attempt: 1,
      at: new Date().toISOString(),
      startedAt: new Date().toISOString(),
      result: { ok: true },
      workerId: "w-1",
      durationMs: 5,
    };
    // Another job's event, and one that is no event, are not this job's end.
    nc.publish(
      Subject.event(newJobId(), "succeeded"),
      JSON.stringify({ ...event, jobId: "other" }),
    );
    nc.publish(Subject.event(id, "progress"), "not json");
    // A body whose kind is not its subject's, as the projector skips it.
    nc.publish(Subject.event(id, "progress"), JSON.stringify(event));
    nc.publish(Subject.event(id, "succeeded"), JSON.stringify(event));
    const doc = await waiting;
    expect(doc).toMatchObject({ _id: id, status: "succeeded", result: { ok: true } });
    // Once before the events, once more when they say it finished.
    expect(reads).toBe(2);
  });
});
