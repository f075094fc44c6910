import { setTimeout as sleep } from "node:timers/promises";

import { ConsumerName, StreamName, Subject } from "@conveyor/contracts";
import { applyEvent, findJob, findRejection } from "@conveyor/read-model";
import type { JobDocument } from "@conveyor/read-model";
import type { Projector } from "@conveyor/status-projector";
import { startMongoServer, startNatsServer, uniqueName } from "@conveyor/testing";
import type { MongoServerHandle, NatsServerHandle } from "@conveyor/testing";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import type { JetStreamClient, JetStreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import type { NatsConnection } from "@nats-io/transport-node";
import { MongoClient } from "mongodb";
import type { Db } from "mongodb";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";

import { jobHistory, publishEvents, rejection, shuffledWithDuplicates } from "./events.ts";
import {
  resetTopology,
  startProjector,
  storedJobs,
  waitForJob,
  waitUntilDrained,
} from "./projector-fixture.ts";

describe("status projector", () => {
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
    db = client.db(uniqueName("projector"));
  });

  afterEach(async () => {
    await projector?.stop();
    projector = undefined;
  });

  it("projects a job's lifecycle into its document", async () => {
    projector = await startProjector(js, db);
    await publishEvents(js, jobHistory("job-life", { failures: 1, batchId: "batch-1" }));

    const doc = await waitForJob(db, "job-life", (d) => d.status === "succeeded");
    expect(doc).toMatchObject({
      type: "report.build",
      run: 1,
      attempt: 2,
      payload: { n: 1 },
      maxAttempts: 2,
      source: "nats",
      batchId: "batch-1",
      result: { ok: 2 },
      progress: { attempt: 2, seq: 1, done: 2, total: 10 },
      traceId: "trace-job-life-1",
    });
    expect(doc.attempts.map((a) => [a.attempt, a.outcome, a.workerId])).toEqual([
      [1, "failed", "worker-1"],
      [2, "succeeded", "worker-2"],
    ]);
    expect(doc.attempts[0]?.error?.message).toBe("attempt 1 of run 1 failed");
    expect(doc.startedAt! < doc.finishedAt!).toBe(true);
  });

  it("holds a new job's events back for at most newJobDeferMs, and a finished job's not at all", async () => {
    const newJobDeferMs = 600;
    projector = await startProjector(js, db, { newJobDeferMs, deferMs: 60_000 });
    const [queued, ...rest] = jobHistory("job-held");
    await publishEvents(js, [queued!]);

    // Held back: the job may end any moment, and it would then be written once.
    await sleep(newJobDeferMs / 3);
    expect(await findJob(db, "job-held")).toBeNull();
    // Its end arrives in time: written at once, with everything held back.
    await publishEvents(js, rest);
    const done = await waitForJob(db, "job-held", (d) => d.status === "succeeded");
    expect(done.payload).toEqual({ n: 1 });

    // A job that does not end shows as queued once its events were held back long enough.
    const [alone] = jobHistory("job-alone");
    const aloneAt = Date.now();
    await publishEvents(js, [alone!]);
    await waitForJob(db, "job-alone", (d) => d.status === "queued");
    expect(Date.now() - aloneAt).toBeGreaterThanOrEqual(newJobDeferMs - 50);
    await waitUntilDrained(jsm);
  });

  it("holds the events of a job the read model holds for deferMs only, so that they show sooner", async () => {
    const deferMs = 300;
    projector = await startProjector(js, db, { deferMs, newJobDeferMs: 60_000 });
    const history = jobHistory("job-known", { runs: 2 });
    const replayAt = history.findIndex((e) => e.kind === "queued" && e.run === 2);
    await publishEvents(js, history.slice(0, replayAt));
    await waitForJob(db, "job-known", (d) => d.status === "dead");

    const [fresh] = jobHistory("job-new");
    const heldAt = Date.now();
    await publishEvents(js, [history[replayAt]!, fresh!]);
    await waitForJob(db, "job-known", (d) => d.status === "queued" && d.queuedRun === 2);
    expect(Date.now() - heldAt).toBeGreaterThanOrEqual(deferMs - 50);
    // The new job is still held: it may yet end and be written once.
    await sleep(deferMs);
    expect(await findJob(db, "job-new")).toBeNull();
  });

  it("holds back at most deferLimit messages: past it the newest are written at once", async () => {
    projector = await startProjector(js, db, { newJobDeferMs: 60_000, deferLimit: 2 });
    const queued = ["job-cap-1", "job-cap-2", "job-cap-3"].map((id) => jobHistory(id)[0]!);
    await publishEvents(js, queued);

    // The newest went past the limit; the two oldest, the next to run, may wait for their ends.
    await waitForJob(db, "job-cap-3", (d) => d.status === "queued");
    await sleep(300);
    expect(await findJob(db, "job-cap-1")).toBeNull();
    expect(await findJob(db, "job-cap-2")).toBeNull();
  });

  it("builds the same document from duplicated, reordered events as from ordered ones", async () => {
    projector = await startProjector(js, db, { batchSize: 4 });
    const shape = { failures: 2, reports: 3, runs: 2, end: "succeeded" } as const;
    const ordered = jobHistory("job-ordered", shape);
    const scrambled = shuffledWithDuplicates(jobHistory("job-scrambled", shape), 7);
    await publishEvents(js, ordered);
    await publishEvents(js, scrambled);
    await waitUntilDrained(jsm);

    const [a, b] = await Promise.all([findJob(db, "job-ordered"), findJob(db, "job-scrambled")]);
    const withoutId = (doc: JobDocument | null) => ({ ...doc, _id: undefined, traceId: undefined });
    expect(withoutId(b)).toStrictEqual(withoutId(a));
    expect(a).toStrictEqual(ordered.reduce<JobDocument | undefined>(applyEvent, undefined));
    expect(a).toMatchObject({ status: "succeeded", run: 2, attempt: 3, queuedRun: 2 });
    expect(a?.attempts).toHaveLength(6);
  });

  it("records rejections", async () => {
    projector = await startProjector(js, db);
    await publishEvents(js, [rejection("rej-1", "2025-01-01T00:00:00Z")]);
    await waitUntilDrained(jsm);

    expect(await findRejection(db, "rej-1")).toStrictEqual({
      _id: "rej-1",
      at: "2025-01-01T00:00:00.000Z",
      subject: "jobs.submit.report.build",
      reason: "invalid_envelope",
      message: "payload.n: expected number",
      issues: [{ path: "payload.n", message: "expected number" }],
      rawPreview: '{"payload":{"n":"x"}}',
      sizeBytes: 21,
    });
  });

  it("acknowledges and skips invalid events without losing the valid ones around them", async () => {
    projector = await startProjector(js, db);
    const [queued, started] = jobHistory("job-valid");
    await publishEvents(js, [queued!]);
    await js.publish(Subject.event("job-valid", "started"), "{not json");
    await js.publish(
      Subject.event("job-valid", "started"),
      JSON.stringify({ ...started, attempt: -1 }),
    );
    await js.publish(Subject.event("job-other", "started"), JSON.stringify(started));
    await publishEvents(js, [started!]);
    await waitUntilDrained(jsm);

    expect(await findJob(db, "job-valid")).toMatchObject({ status: "running", attempt: 1 });
    expect(await findJob(db, "job-other")).toBeNull();
    const info = await jsm.consumers.info(StreamName.Events, ConsumerName.Projector);
    expect(info.ack_floor.stream_seq).toBe(5);
  });

  it("stores payloads whose keys MongoDB servers refuse, and returns them unchanged", async () => {
    projector = await startProjector(js, db);
    const payload = { "user.name": "ada", $meta: { "50%": true }, list: [{ "a.b": null }] };
    await publishEvents(js, [...jobHistory("job-keys", { payload }), ...jobHistory("job-plain")]);
    await waitUntilDrained(jsm);

    expect((await findJob(db, "job-keys"))?.payload).toStrictEqual(payload);
    expect((await findJob(db, "job-plain"))?.status).toBe("succeeded");
  });

  it("ignores events it has already projected", async () => {
    projector = await startProjector(js, db);
    const events = jobHistory("job-once");
    await publishEvents(js, events);
    const first = await waitForJob(db, "job-once", (d) => d.status === "succeeded");
    await publishEvents(js, events.slice(0, 3));
    await waitUntilDrained(jsm);

    expect(await storedJobs(db)).toHaveLength(1);
    expect(await findJob(db, "job-once")).toStrictEqual(first);
  });
});
