import { setTimeout as sleep } from "node:timers/promises";

import { ConsumerName, StreamName, Subject } from "@conveyor/contracts";
import {
  applyEvent,
  findJob,
  findRejection,
  jobsCollection,
  toStoredJob,
} from "@conveyor/read-model";
import type { JobDocument } from "@conveyor/read-model";
import { createLogger } from "@conveyor/service-kit";
import { Tracing } from "@conveyor/telemetry";
import { InMemorySpanExporter, SimpleSpanProcessor } from "@opentelemetry/sdk-trace";
import { describe, expect, it } from "vitest";

import { jobHistory, publishEvents, rejection, shuffledWithDuplicates } from "./events.ts";
import {
  startProjector,
  storedJobs,
  useProjectorServers,
  waitForJob,
  waitUntilDrained,
  withoutRevision,
} from "./projector-fixture.ts";

describe("status projector", () => {
  const fx = useProjectorServers("projector");

  it("projects a job's lifecycle into its document", async () => {
    fx.projector = await startProjector(fx.js, fx.db);
    await publishEvents(fx.js, jobHistory("job-life", { failures: 1, batchId: "batch-1" }));

    const doc = await waitForJob(fx.db, "job-life", (d) => d.status === "succeeded");
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

  it("holds a new job's events back, and writes them at once when the job ends", async () => {
    // A hold far longer than the wait for the document: only a job written at its end shows.
    const newJobDeferMs = 60_000;
    fx.projector = await startProjector(fx.js, fx.db, { newJobDeferMs, deferMs: 60_000 });
    const [queued, ...rest] = jobHistory("job-held");
    await publishEvents(fx.js, [queued!]);

    // Held back: the job may end any moment, and it would then be written once.
    await sleep(300);
    expect(await findJob(fx.db, "job-held")).toBeNull();
    // Its end arrives: written at once (well within waitForJob's 20 s), with everything held back.
    await publishEvents(fx.js, rest);
    const done = await waitForJob(fx.db, "job-held", (d) => d.status === "succeeded");
    expect(done.payload).toEqual({ n: 1 });
    await waitUntilDrained(fx.jsm);
  });

  it("records no span for a batch whose every message it holds back, which had made a trace of its own per job", async () => {
    const spans = new InMemorySpanExporter();
    const tracing = Tracing.create({
      serviceName: "status-projector-test",
      spanProcessors: [new SimpleSpanProcessor({ exporter: spans })],
    });
    const silent = createLogger("status-projector-test", "silent");
    const held = { newJobDeferMs: 60_000, deferMs: 60_000 };
    fx.projector = await startProjector(fx.js, fx.db, held, silent, tracing);
    const [queued, ...rest] = jobHistory("job-held-span");
    await publishEvents(fx.js, [queued!]);
    await sleep(300);
    expect(spans.getFinishedSpans().map((span) => span.name)).toEqual([]);

    await publishEvents(fx.js, rest);
    await waitForJob(fx.db, "job-held-span", (d) => d.status === "succeeded");
    expect(spans.getFinishedSpans().length).toBeGreaterThan(0);
    await waitUntilDrained(fx.jsm);
  });

  it("holds a new job's events back for at most newJobDeferMs", async () => {
    const newJobDeferMs = 600;
    fx.projector = await startProjector(fx.js, fx.db, { newJobDeferMs, deferMs: 60_000 });
    // A job that does not end shows as queued once its events were held back long enough.
    const [alone] = jobHistory("job-alone");
    const aloneAt = Date.now();
    await publishEvents(fx.js, [alone!]);
    await waitForJob(fx.db, "job-alone", (d) => d.status === "queued");
    expect(Date.now() - aloneAt).toBeGreaterThanOrEqual(newJobDeferMs - 50);
    await waitUntilDrained(fx.jsm);
  });

  it("holds the events of a job the read model holds for deferMs only, so that they show sooner", async () => {
    const deferMs = 300;
    fx.projector = await startProjector(fx.js, fx.db, { deferMs, newJobDeferMs: 60_000 });
    const history = jobHistory("job-known", { runs: 2 });
    const replayAt = history.findIndex((e) => e.kind === "queued" && e.run === 2);
    await publishEvents(fx.js, history.slice(0, replayAt));
    await waitForJob(fx.db, "job-known", (d) => d.status === "dead");

    const [fresh] = jobHistory("job-new");
    const heldAt = Date.now();
    await publishEvents(fx.js, [history[replayAt]!, fresh!]);
    await waitForJob(fx.db, "job-known", (d) => d.status === "queued" && d.queuedRun === 2);
    expect(Date.now() - heldAt).toBeGreaterThanOrEqual(deferMs - 50);
    // The new job is still held: it may yet end and be written once.
    await sleep(deferMs);
    expect(await findJob(fx.db, "job-new")).toBeNull();
  });

  it("holds back at most deferLimit messages: past it the newest are written at once", async () => {
    fx.projector = await startProjector(fx.js, fx.db, { newJobDeferMs: 60_000, deferLimit: 2 });
    const queued = ["job-cap-1", "job-cap-2", "job-cap-3"].map((id) => jobHistory(id)[0]!);
    await publishEvents(fx.js, queued);

    // The newest went past the limit; the two oldest, the next to run, may wait for their ends.
    await waitForJob(fx.db, "job-cap-3", (d) => d.status === "queued");
    await sleep(300);
    expect(await findJob(fx.db, "job-cap-1")).toBeNull();
    expect(await findJob(fx.db, "job-cap-2")).toBeNull();
  });

  it("builds the same document from duplicated, reordered events as from ordered ones", async () => {
    fx.projector = await startProjector(fx.js, fx.db, { batchSize: 4 });
    const shape = { failures: 2, reports: 3, runs: 2, end: "succeeded" } as const;
    const ordered = jobHistory("job-ordered", shape);
    const scrambled = shuffledWithDuplicates(jobHistory("job-scrambled", shape), 7);
    await publishEvents(fx.js, ordered);
    await publishEvents(fx.js, scrambled);
    await waitUntilDrained(fx.jsm);

    const [a, b] = await Promise.all([
      findJob(fx.db, "job-ordered"),
      findJob(fx.db, "job-scrambled"),
    ]);
    const withoutId = (doc: JobDocument | null) => ({
      ...withoutRevision(doc!),
      _id: undefined,
      traceId: undefined,
    });
    expect(withoutId(b)).toStrictEqual(withoutId(a));
    expect(withoutRevision(a!)).toStrictEqual(
      ordered.reduce<JobDocument | undefined>(applyEvent, undefined),
    );
    expect(a).toMatchObject({ status: "succeeded", run: 2, attempt: 3, queuedRun: 2 });
    expect(a?.attempts).toHaveLength(6);
  });

  it("records rejections", async () => {
    fx.projector = await startProjector(fx.js, fx.db);
    await publishEvents(fx.js, [rejection("rej-1", "2025-01-01T00:00:00Z")]);
    await waitUntilDrained(fx.jsm);

    expect(await findRejection(fx.db, "rej-1")).toStrictEqual({
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
    fx.projector = await startProjector(fx.js, fx.db);
    const [queued, started] = jobHistory("job-valid");
    await publishEvents(fx.js, [queued!]);
    await fx.js.publish(Subject.event("job-valid", "started"), "{not json");
    await fx.js.publish(
      Subject.event("job-valid", "started"),
      JSON.stringify({ ...started, attempt: -1 }),
    );
    await fx.js.publish(Subject.event("job-other", "started"), JSON.stringify(started));
    await publishEvents(fx.js, [started!]);
    await waitUntilDrained(fx.jsm);

    expect(await findJob(fx.db, "job-valid")).toMatchObject({ status: "running", attempt: 1 });
    expect(await findJob(fx.db, "job-other")).toBeNull();
    const info = await fx.jsm.consumers.info(StreamName.Events, ConsumerName.Projector);
    expect(info.ack_floor.stream_seq).toBe(5);
  });

  it("stores payloads whose keys MongoDB servers refuse, and returns them unchanged", async () => {
    fx.projector = await startProjector(fx.js, fx.db);
    const payload = { "user.name": "ada", $meta: { "50%": true }, list: [{ "a.b": null }] };
    await publishEvents(fx.js, [
      ...jobHistory("job-keys", { payload }),
      ...jobHistory("job-plain"),
    ]);
    await waitUntilDrained(fx.jsm);

    expect((await findJob(fx.db, "job-keys"))?.payload).toStrictEqual(payload);
    expect((await findJob(fx.db, "job-plain"))?.status).toBe("succeeded");
  });

  it("stores payloads and results holding arrays in arrays, which FerretDB refuses, and returns them unchanged", async () => {
    fx.projector = await startProjector(fx.js, fx.db);
    const payload = { matrix: [[1, 2], [3]], deep: [[[]], [[{ a: [[null]] }]]], "%A": [4] };
    const result = [["a", 1], ["b", 2], []];
    await publishEvents(fx.js, [
      ...jobHistory("job-nested", { payload, result }),
      ...jobHistory("job-after"),
    ]);
    await waitUntilDrained(fx.jsm);

    const stored = await findJob(fx.db, "job-nested");
    expect(stored?.status).toBe("succeeded");
    expect(stored?.payload).toStrictEqual(payload);
    expect(stored?.result).toStrictEqual(result);
    expect((await findJob(fx.db, "job-after"))?.status).toBe("succeeded");
  });

  it("ignores events it has already projected", async () => {
    fx.projector = await startProjector(fx.js, fx.db);
    const events = jobHistory("job-once");
    await publishEvents(fx.js, events);
    const first = await waitForJob(fx.db, "job-once", (d) => d.status === "succeeded");
    await publishEvents(fx.js, events.slice(0, 3));
    await waitUntilDrained(fx.jsm);

    expect(await storedJobs(fx.db)).toHaveLength(1);
    expect(await findJob(fx.db, "job-once")).toStrictEqual(first);
  });

  it("stores large events in batches of at most batchMaxBytes, so that a burst of large payloads is written in parts", async () => {
    // Twelve jobs whose payloads are about 200 KB, published before the projector starts: its
    // first pull gets them all.
    const payload = { text: "x".repeat(200_000) };
    const ids = Array.from({ length: 12 }, (_, n) => `job-large-${n}`);
    for (const id of ids) await publishEvents(fx.js, jobHistory(id, { reports: 0, payload }));
    const spans = new InMemorySpanExporter();
    const tracing = Tracing.create({
      serviceName: "status-projector-test",
      spanProcessors: [new SimpleSpanProcessor({ exporter: spans })],
    });
    const silent = createLogger("status-projector-test", "silent");
    const options = { batchMaxBytes: 500_000, newJobDeferMs: 0, deferMs: 0 };
    fx.projector = await startProjector(fx.js, fx.db, options, silent, tracing);
    await waitUntilDrained(fx.jsm);

    const stored = await storedJobs(fx.db);
    expect(stored.map((doc) => doc.status)).toEqual(ids.map(() => "succeeded"));
    const batchSizes = spans
      .getFinishedSpans()
      .map((span) => span.attributes["messaging.batch.message_count"])
      .filter((count) => count !== undefined);
    // In stream order each job's queued event (200 KB), started and succeeded: two jobs' events
    // fit in 500 KB, a third's queued event does not. Unbounded, the first batch took all 36.
    expect(batchSizes.length).toBeGreaterThan(0);
    for (const size of batchSizes) expect(size).toBeLessThanOrEqual(6);
  });

  /** A projector that fences its writes by revision, as on MongoDB, without holding events back. */
  const fenced = () =>
    startProjector(fx.js, fx.db, { newJobDeferMs: 0, deferMs: 0, fenceRevisions: true });

  it("counts each write of a job's document in its revision, and leaves an unchanged one unwritten", async () => {
    fx.projector = await fenced();
    const [queued, started, succeeded] = jobHistory("job-revised", { reports: 0 });
    await publishEvents(fx.js, [queued!]);
    expect(await waitForJob(fx.db, "job-revised")).toMatchObject({ revision: 1 });
    await publishEvents(fx.js, [started!]);
    await waitForJob(fx.db, "job-revised", (d) => d.status === "running");
    await publishEvents(fx.js, [succeeded!]);
    await waitForJob(fx.db, "job-revised", (d) => d.status === "succeeded");
    await waitUntilDrained(fx.jsm);
    expect(await findJob(fx.db, "job-revised")).toMatchObject({ revision: 3 });

    // An event the document already holds changes nothing: nothing is written.
    await publishEvents(fx.js, [started!]);
    await waitUntilDrained(fx.jsm);
    expect(await findJob(fx.db, "job-revised")).toMatchObject({ revision: 3 });
  });

  it("folds a job again from what is stored when its document changed behind the projector's back", async () => {
    fx.projector = await fenced();
    const [queued, started, report, succeeded] = jobHistory("job-changed", { reports: 1 });
    await publishEvents(fx.js, [queued!]);
    const first = await waitForJob(fx.db, "job-changed");

    // Another write (as one that landed late) stores a newer revision the projector has not seen.
    const newer = [started!, report!].reduce(applyEvent, first);
    await jobsCollection(fx.db).replaceOne(
      { _id: "job-changed" },
      toStoredJob({ ...newer, revision: 2 }),
    );
    await publishEvents(fx.js, [succeeded!]);

    const doc = await waitForJob(fx.db, "job-changed", (d) => d.status === "succeeded");
    expect(doc.revision).toBe(3);
    // What the newer revision held is kept, merged with the event the projector wrote.
    expect(doc.progress).toMatchObject({ seq: 0, attempt: 1 });
    expect(doc.attempts).toMatchObject([
      { attempt: 1, outcome: "succeeded", workerId: "worker-1" },
    ]);
  });

  it("writes over a document stored without a revision, as earlier versions stored them", async () => {
    const [queued, started] = jobHistory("job-legacy", { reports: 0 });
    await jobsCollection(fx.db).insertOne(toStoredJob(applyEvent(undefined, queued!)));
    fx.projector = await fenced();
    await publishEvents(fx.js, [started!]);

    const doc = await waitForJob(fx.db, "job-legacy", (d) => d.status === "running");
    expect(doc).toMatchObject({ revision: 1, payload: { n: 1 } });
  });

  it("writes over a document whose revision is no count (edited by hand), and counts again from 1", async () => {
    const edited = [null, 0, "3", -2];
    for (const [n, revision] of edited.entries()) {
      const [queued] = jobHistory(`job-edited-${n}`, { reports: 0 });
      const doc = { ...toStoredJob(applyEvent(undefined, queued!)), revision };
      await jobsCollection(fx.db).insertOne(doc as never);
    }
    fx.projector = await fenced();
    for (const n of edited.keys()) {
      const [, started] = jobHistory(`job-edited-${n}`, { reports: 0 });
      await publishEvents(fx.js, [started!]);
    }
    for (const n of edited.keys()) {
      const doc = await waitForJob(fx.db, `job-edited-${n}`, (d) => d.status === "running");
      expect(doc.revision).toBe(1);
    }
  });
});
