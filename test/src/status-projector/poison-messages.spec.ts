import { ConsumerName, StreamName, Subject } from "@conveyor/contracts";
import type { JobEvent } from "@conveyor/contracts";
import { findDeadLetter, findJob } from "@conveyor/read-model";
import { createLogger } from "@conveyor/service-kit";
import type { Projector } from "@conveyor/status-projector";
import { startMongoServer, startNatsServer, uniqueName } from "@conveyor/testing";
import type { MongoServerHandle, NatsServerHandle } from "@conveyor/testing";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import type { JetStreamClient, JetStreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import type { NatsConnection } from "@nats-io/transport-node";
import { MongoClient } from "mongodb";
import type { Db } from "mongodb";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";

import { deadLetter, publishLetter } from "./dead-letters.ts";
import { jobHistory, publishEvents } from "./events.ts";
import { resetTopology, startProjector, waitUntilDrained } from "./projector-fixture.ts";

/** A logger that records what the projector warns and errors about, without printing anything. */
function recordingLogger() {
  const logger = createLogger("status-projector-test", "warn");
  const warn = vi.spyOn(logger, "warn").mockImplementation(() => undefined);
  const error = vi.spyOn(logger, "error").mockImplementation(() => undefined);
  const logged = (spy: typeof warn, message: string) =>
    spy.mock.calls.filter(([, msg]) => msg === message).map(([fields]) => fields as object);
  return {
    logger,
    warnings: (message: string) => logged(warn, message),
    errors: (message: string) => logged(error, message),
  };
}

/** The text of a succeeded event whose result is nested `depth` arrays deep. */
function deepSucceededEvent(jobId: string, depth: number): string {
  const [, started] = jobHistory(jobId);
  const event = { ...started, kind: "succeeded", result: 0, durationMs: 5 };
  return JSON.stringify(event).replace(
    '"result":0',
    `"result":${"[".repeat(depth)}0${"]".repeat(depth)}`,
  );
}

describe("status projector with messages it cannot store", () => {
  let nats: NatsServerHandle;
  let mongo: MongoServerHandle;
  let nc: NatsConnection;
  let js: JetStreamClient;
  let jsm: JetStreamManager;
  let client: MongoClient;
  let db: Db;
  let projector: Projector | undefined;

  beforeAll(async () => {
    [nats, mongo] = await Promise.all([startNatsServer(), startMongoServer()]);
    nc = await connect({ servers: nats.url });
    js = jetstream(nc);
    jsm = await jetstreamManager(nc);
    client = await MongoClient.connect(mongo.url);
  });

  afterAll(async () => {
    await client.close();
    await nc.close();
    await Promise.all([nats[Symbol.asyncDispose](), mongo[Symbol.asyncDispose]()]);
  });

  beforeEach(async () => {
    await resetTopology(jsm);
    db = client.db(uniqueName("poison"));
  });

  afterEach(async () => {
    await projector?.stop();
    projector = undefined;
  });

  it("stores payload keys holding NUL and returns them unchanged, without holding back other jobs", async () => {
    projector = await startProjector(js, db);
    const payload = { "a\u0000b": 1, nested: [{ "\u0000": "x", "%00": "y" }] };
    await publishEvents(js, [...jobHistory("job-nul", { payload }), ...jobHistory("job-after")]);
    await waitUntilDrained(jsm);

    expect(await findJob(db, "job-nul")).toMatchObject({ status: "succeeded", payload });
    expect((await findJob(db, "job-nul"))?.payload).toStrictEqual(payload);
    expect(await findJob(db, "job-after")).toMatchObject({ status: "succeeded" });
  });

  it("stores a dead letter whose payload has a NUL key, without holding back other letters", async () => {
    projector = await startProjector(js, db);
    const payload = { "a\u0000b": { "c.d": 1 } };
    await publishLetter(js, deadLetter("job-nul", { payload }));
    await publishLetter(js, deadLetter("job-after"));
    await waitUntilDrained(jsm, ConsumerName.ProjectorDeadLetters, StreamName.Dlq);

    const doc = await findDeadLetter(db, "job-nul");
    expect(doc?.state === "dead" && doc.workItem?.payload).toStrictEqual(payload);
    expect(await findDeadLetter(db, "job-after")).toMatchObject({ state: "dead" });
  });

  it("acknowledges and reports an event nested too deep to validate, and projects the rest", async () => {
    const { logger, warnings } = recordingLogger();
    projector = await startProjector(js, db, {}, logger);
    const [queued, started] = jobHistory("job-deep");
    await publishEvents(js, [queued!, started!]);
    await js.publish(Subject.event("job-deep", "succeeded"), deepSucceededEvent("job-deep", 3_000));
    await js.publish(Subject.event("job-deep", "succeeded"), deepSucceededEvent("job-deep", 200));
    await publishEvents(js, jobHistory("job-after"));
    await waitUntilDrained(jsm);

    expect(await findJob(db, "job-deep")).toMatchObject({ status: "running", attempt: 1 });
    expect(await findJob(db, "job-after")).toMatchObject({ status: "succeeded" });
    expect(warnings("invalid event skipped")).toEqual([
      expect.objectContaining({ subject: "events.job-deep.succeeded", reason: "too_deep" }),
      expect.objectContaining({ subject: "events.job-deep.succeeded", reason: "too_deep" }),
    ]);
  });

  it("logs and skips a document the database refuses, and projects the other jobs", async () => {
    const { logger, errors } = recordingLogger();
    projector = await startProjector(js, db, {}, logger);
    // Twenty failed attempts with 900 kB stack traces each: over MongoDB's 16 MB per document.
    const [queued] = jobHistory("job-huge");
    const stack = "x".repeat(900_000);
    const failures: JobEvent[] = Array.from({ length: 20 }, (_, i) => ({
      kind: "failed",
      jobId: "job-huge",
      type: "report.build",
      run: 1,
      attempt: i + 1,
      at: new Date(Date.UTC(2025, 0, 1, 0, 0, i + 1)).toISOString(),
      error: { name: "Error", message: `attempt ${i + 1}`, stack },
      durationMs: 3,
      workerId: "worker-1",
      retryDelayMs: 10,
    }));
    await publishEvents(js, [{ ...queued!, maxAttempts: 30 } as JobEvent, ...failures]);
    await publishEvents(js, jobHistory("job-after"));
    await waitUntilDrained(jsm);

    expect(await findJob(db, "job-after")).toMatchObject({ status: "succeeded" });
    const refused = errors("document could not be stored, its messages are skipped");
    expect(refused.length).toBeGreaterThan(0);
    expect(refused).toContainEqual(expect.objectContaining({ collection: "jobs", id: "job-huge" }));
  });
});
