import { StreamName, Subject } from "@conveyor/contracts";
import type { JobEvent, JobStatus } from "@conveyor/contracts";
import {
  deadLettersCollection,
  jobsCollection,
  rejectionsCollection,
  toStoredDeadLetter,
} from "@conveyor/read-model";
import type { JobDocument, RejectionDocument } from "@conveyor/read-model";
import { ensureWorkConsumer } from "@conveyor/topology";
import { jetstream } from "@nats-io/jetstream";
import { describe, expect, it } from "vitest";

import {
  deadLetter,
  logEntry,
  publishLetter,
  reduceDeadLetters,
  settleLetter,
} from "../status-projector/dead-letters.ts";
import { publishRawHeaders } from "../support/raw-publish.ts";
import { useServerPair } from "../support/server-pair.ts";
import { request, startGateway } from "./gateway-fixture.ts";
import type { GatewayUnderTest } from "./gateway-fixture.ts";

const servers = useServerPair();

function gateway(): Promise<GatewayUnderTest> {
  return startGateway({ natsUrl: servers.nats.url, mongoUrl: servers.mongo.url });
}

const time = (n: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, n)).toISOString();

/** A job document as the projector writes it; ids sort in creation order like UUIDv7s. */
function jobDoc(n: number, status: JobStatus = "queued", type = "echo"): JobDocument {
  return {
    _id: `job-${String(n).padStart(4, "0")}`,
    type,
    status,
    run: 1,
    attempt: status === "queued" ? 0 : 1,
    payload: { message: `m${String(n)}` },
    priority: 5,
    maxAttempts: 4,
    source: "rest",
    attempts:
      status === "queued" ? [] : [{ run: 1, attempt: 1, workerId: "w1", startedAt: time(n + 1) }],
    submittedAt: time(n),
    updatedAt: time(n + 1),
    traceId: "4bf92f3577b34da6a3ce929d0e0e4736",
  };
}

function rejectionDoc(n: number): RejectionDocument {
  return {
    _id: `rej-${String(n).padStart(4, "0")}`,
    at: time(n),
    subject: "jobs.submit.echo",
    reason: "invalid_payload",
    message: "payload.message: expected string",
    issues: [{ path: "payload.message", message: "expected string" }],
    rawPreview: '{"type":"echo"}',
    sizeBytes: 15,
  };
}

async function pageThrough(gw: GatewayUnderTest, query: string, between?: () => Promise<void>) {
  const ids: string[] = [];
  let cursor: string | null = null;
  do {
    const suffix: string = cursor === null ? "" : `&cursor=${cursor}`;
    const page = await request(`${gw.baseUrl}/v1/jobs?${query}${suffix}`);
    expect(page.status).toBe(200);
    ids.push(...(page.body.items as { id: string }[]).map((j) => j.id));
    cursor = page.body.nextCursor as string | null;
    await between?.();
  } while (cursor !== null);
  return ids;
}

describe("GET /v1/jobs/:id", () => {
  it("shows a job's view", async () => {
    await using gw = await gateway();
    await jobsCollection(gw.db).insertOne(jobDoc(1, "running"));
    const response = await request(`${gw.baseUrl}/v1/jobs/job-0001`);
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({
      id: "job-0001",
      type: "echo",
      status: "running",
      attempts: 1,
      payload: { message: "m1" },
      priority: 5,
      maxAttempts: 4,
      batchId: null,
      progress: null,
      result: null,
      error: null,
      submittedAt: time(1),
      startedAt: null,
      finishedAt: null,
      traceId: "4bf92f3577b34da6a3ce929d0e0e4736",
    });
    expect(response.body.attemptHistory).toEqual([
      expect.objectContaining({ attempt: 1, workerId: "w1" }),
    ]);
  });

  it("shows a job that is in EVENTS but not yet in the read model, until the read model has it", async () => {
    await using gw = await gateway();
    const js = jetstream(gw.nc);
    const jobId = "job-not-projected";
    const common = { jobId, type: "echo", run: 1, traceId: "4bf92f3577b34da6a3ce929d0e0e4736" };
    const events: JobEvent[] = [
      {
        ...common,
        kind: "queued",
        attempt: 0,
        at: time(1),
        payload: { message: "early" },
        priority: 3,
        maxAttempts: 2,
        submittedAt: time(0),
        source: "rest",
      },
      { ...common, kind: "started", attempt: 1, at: time(2), workerId: "w9" },
    ];
    for (const event of events) {
      await js.publish(Subject.event(jobId, event.kind), JSON.stringify(event));
    }
    // Not the same job: an event on another job's subject is not folded in.
    await js.publish(
      Subject.event(jobId, "succeeded"),
      JSON.stringify({ ...common, jobId: "other", kind: "succeeded", attempt: 1, at: time(3) }),
    );

    const early = await request(`${gw.baseUrl}/v1/jobs/${jobId}`);
    expect(early.status).toBe(200);
    expect(early.body).toMatchObject({
      id: jobId,
      status: "running",
      attempts: 1,
      payload: { message: "early" },
      priority: 3,
      submittedAt: time(0),
      startedAt: time(2),
    });

    await jobsCollection(gw.db).insertOne({ ...jobDoc(2, "succeeded"), _id: jobId });
    const projected = await request(`${gw.baseUrl}/v1/jobs/${jobId}`);
    expect(projected.body).toMatchObject({ id: jobId, status: "succeeded" });
  });

  it("reads a job from EVENTS whose event carries a header nats.js cannot read, and goes on reading", async () => {
    await using gw = await gateway();
    const queued = (jobId: string) => ({
      jobId,
      type: "echo",
      run: 1,
      kind: "queued",
      attempt: 0,
      at: time(1),
      payload: null,
      priority: 5,
      maxAttempts: 2,
      submittedAt: time(0),
      source: "nats",
    });
    // As another client may store it: nats.js throws reading a header name with a space.
    await publishRawHeaders(
      servers.nats.url,
      Subject.event("job-odd-header", "queued"),
      ["bad key: x"],
      JSON.stringify(queued("job-odd-header")),
    );
    await jetstream(gw.nc).publish(
      Subject.event("job-after-odd", "queued"),
      JSON.stringify(queued("job-after-odd")),
    );

    const odd = await request(`${gw.baseUrl}/v1/jobs/job-odd-header`);
    expect(odd).toMatchObject({ status: 200, body: { id: "job-odd-header", status: "queued" } });
    // The gateway's connection still reads: the next read from EVENTS is answered too.
    const after = await request(`${gw.baseUrl}/v1/jobs/job-after-odd`);
    expect(after).toMatchObject({ status: 200, body: { id: "job-after-odd", status: "queued" } });
  });

  it("tells of a job in EVENTS but not yet in the read model that it has no dead letter", async () => {
    await using gw = await gateway();
    const js = jetstream(gw.nc);
    const jobId = "job-not-projected-dlq";
    const queued: JobEvent = {
      jobId,
      type: "echo",
      run: 1,
      traceId: "4bf92f3577b34da6a3ce929d0e0e4736",
      kind: "queued",
      attempt: 0,
      at: time(1),
      payload: null,
      priority: 5,
      maxAttempts: 2,
      submittedAt: time(0),
      source: "nats",
    };
    await js.publish(Subject.event(jobId, "queued"), JSON.stringify(queued));

    // The same answer as GET /v1/jobs/:id gives: the job exists, it just has not died.
    for (const [method, path] of [
      ["GET", `/v1/dlq/${jobId}`],
      ["POST", `/v1/dlq/${jobId}/replay`],
    ] as const) {
      const response = await request(`${gw.baseUrl}${path}`, { method });
      expect(response).toMatchObject({ status: 404, body: { error: "not_found" } });
      expect(response.body.message).toBe(`job ${jobId} has no dead letter (status queued)`);
    }

    // Dead in EVENTS just now while its letter is not projected yet: not "no dead letter" (nor,
    // as for a job that died longer ago than the DLQ keeps letters, that its letter is gone).
    const dead: JobEvent = {
      ...queued,
      kind: "dead",
      attempt: 2,
      at: new Date().toISOString(),
      error: { message: "boom" },
      reason: "max_attempts",
    };
    await js.publish(Subject.event(jobId, "dead"), JSON.stringify(dead));
    const response = await request(`${gw.baseUrl}/v1/dlq/${jobId}`);
    expect(response).toMatchObject({ status: 404, body: { error: "not_found" } });
    expect(response.body.message).toContain("dead letter is not shown yet");
  });

  it("tells of a letter replayed a moment ago that it was replayed, before the read model has it", async () => {
    await using gw = await gateway();
    const js = jetstream(gw.nc);
    const letter = deadLetter("job-replayed-unprojected", { type: "echo" });
    const seq = await publishLetter(js, letter);
    await deadLettersCollection(gw.db).insertOne(
      toStoredDeadLetter(reduceDeadLetters([{ letter, seq }])!),
    );
    // The dispatcher replays it; the letter was the DLQ's oldest message, so the DLQ now starts
    // after it, as it does once its age removed a letter.
    const entry = logEntry(letter, "replayed", seq, new Date().toISOString());
    await settleLetter(js, gw.jsm, entry);
    await gw.jsm.streams.purge(StreamName.Dlq, { seq: seq + 1 });
    expect((await gw.jsm.streams.info(StreamName.Dlq)).state.first_seq).toBeGreaterThan(seq);

    const response = await request(`${gw.baseUrl}/v1/dlq/${letter.jobId ?? ""}`);
    expect(response).toMatchObject({ status: 404, body: { error: "not_found" } });
    expect(response.body.message).toBe(
      `the dead letter of job ${letter.jobId ?? ""} (run 1) was replayed at ${entry.at}`,
    );
  });

  it("answers 404 for an unknown id and 400 for a malformed one", async () => {
    await using gw = await gateway();
    const missing = await request(`${gw.baseUrl}/v1/jobs/no-such-job`);
    expect(missing.status).toBe(404);
    expect(missing.body.error).toBe("not_found");
    expect(missing.body.message).toContain("no-such-job");
    // A NATS publisher learns where a refused submission of that id is recorded.
    expect(missing.body.message).toContain("/v1/rejections?jobId=no-such-job");

    const malformed = await request(`${gw.baseUrl}/v1/jobs/bad.id`);
    expect(malformed.status).toBe(400);
    expect(malformed.body).toMatchObject({
      error: "invalid_parameter",
      issues: [expect.objectContaining({ path: "id" })],
    });
  });
});

describe("GET /v1/jobs", () => {
  it("pages through every job exactly once, newest first, even while jobs are added", async () => {
    await using gw = await gateway();
    const docs = Array.from({ length: 23 }, (_, i) => jobDoc(i + 1));
    await jobsCollection(gw.db).insertMany(docs);
    const expected = docs
      .map((d) => d._id)
      .sort()
      .reverse();

    expect(await pageThrough(gw, "limit=5")).toEqual(expected);

    // Newer jobs arriving mid-listing sort before the cursor: the pages already promised are unchanged.
    let added = 100;
    const seen = await pageThrough(gw, "limit=4", async () => {
      added += 1;
      await jobsCollection(gw.db).insertOne(jobDoc(added));
    });
    expect(seen).toEqual(expected);
  });

  it("filters by status and type", async () => {
    await using gw = await gateway();
    await jobsCollection(gw.db).insertMany([
      jobDoc(1, "queued"),
      jobDoc(2, "running"),
      jobDoc(3, "running", "email.send"),
      jobDoc(4, "dead"),
    ]);
    expect(await pageThrough(gw, "status=running")).toEqual(["job-0003", "job-0002"]);
    expect(await pageThrough(gw, "status=running&type=echo")).toEqual(["job-0002"]);
    expect(await pageThrough(gw, "type=email.send")).toEqual(["job-0003"]);
  });

  it.each([
    ["status=finished", "status"],
    ["limit=0", "limit"],
    ["limit=many", "limit"],
    ["limit=1&limit=2", "limit"],
    ["cursor=not-a-cursor", "cursor"],
    ["cursor=%24%24", "cursor"],
  ])("refuses ?%s with 400 naming %s", async (query, name) => {
    await using gw = await gateway();
    const response = await request(`${gw.baseUrl}/v1/jobs?${query}`);
    expect(response.status).toBe(400);
    expect(response.body.error).toBe("invalid_parameter");
    expect((response.body.issues as { path: string }[]).map((i) => i.path)).toEqual([name]);
  });
});

describe("GET /v1/rejections", () => {
  it("lists rejections newest first with a cursor, and shows one", async () => {
    await using gw = await gateway();
    await rejectionsCollection(gw.db).insertMany([1, 2, 3].map(rejectionDoc));
    const first = await request(`${gw.baseUrl}/v1/rejections?limit=2`);
    expect(first.status).toBe(200);
    const items = first.body.items as { id: string }[];
    expect(items.map((r) => r.id)).toEqual(["rej-0003", "rej-0002"]);
    const second = await request(
      `${gw.baseUrl}/v1/rejections?limit=2&cursor=${String(first.body.nextCursor)}`,
    );
    expect((second.body.items as { id: string }[]).map((r) => r.id)).toEqual(["rej-0001"]);
    expect(second.body.nextCursor).toBeNull();

    const one = await request(`${gw.baseUrl}/v1/rejections/rej-0002`);
    expect(one.status).toBe(200);
    expect(one.body).toMatchObject({
      id: "rej-0002",
      reason: "invalid_payload",
      issues: [{ path: "payload.message", message: "expected string" }],
      jobId: null,
    });
    expect((await request(`${gw.baseUrl}/v1/rejections/rej-9999`)).status).toBe(404);
    expect((await request(`${gw.baseUrl}/v1/rejections?limit=x`)).status).toBe(400);
  });

  it("lists the rejections of the job id a submission named", async () => {
    await using gw = await gateway();
    await rejectionsCollection(gw.db).insertMany([
      { ...rejectionDoc(1), jobId: "order 7" },
      rejectionDoc(2),
      { ...rejectionDoc(3), jobId: "order 7" },
      { ...rejectionDoc(4), jobId: "order-8" },
    ]);
    const listed = await request(`${gw.baseUrl}/v1/rejections?jobId=order%207`);
    expect(listed.status).toBe(200);
    expect((listed.body.items as { id: string; jobId: string }[]).map((r) => r.id)).toEqual([
      "rej-0003",
      "rej-0001",
    ]);
    for (const query of ["jobId=", `jobId=${"x".repeat(257)}`]) {
      const refused = await request(`${gw.baseUrl}/v1/rejections?${query}`);
      expect(refused.status).toBe(400);
      expect((refused.body.issues as { path: string }[]).map((i) => i.path)).toEqual(["jobId"]);
    }
  });
});

describe("GET /v1/stats", () => {
  it("counts jobs by status and type, and reads each registered type's work queue", async () => {
    await using gw = await gateway();
    await gw.registry.register({ type: "no.consumer" });
    await ensureWorkConsumer(gw.jsm, "echo");
    await jobsCollection(gw.db).insertMany([
      jobDoc(1, "queued"),
      jobDoc(2, "queued"),
      jobDoc(3, "dead", "email.send"),
    ]);
    const depthBefore = (
      await gw.jsm.streams.info(StreamName.Work, { subjects_filter: Subject.work("echo") })
    ).state.messages;
    await gw.nc.request(Subject.work("echo"), JSON.stringify({}), { timeout: 2000 });
    // Every priority's lane counts.
    await gw.nc.request(Subject.work("echo", 9), JSON.stringify({}), { timeout: 2000 });

    const response = await request(`${gw.baseUrl}/v1/stats`);
    expect(response.status).toBe(200);
    expect(response.body.jobs).toMatchObject({
      total: 3,
      byStatus: { queued: 2, dead: 1, running: 0, succeeded: 0, failed: 0, cancelled: 0 },
      byType: {
        echo: { total: 2, byStatus: { queued: 2, dead: 0 } },
        "email.send": { total: 1, byStatus: { queued: 0, dead: 1 } },
      },
    });
    const queues = response.body.workQueues as Record<string, Record<string, unknown>>;
    expect(queues["echo"]).toEqual({
      subject: "work.echo",
      depth: depthBefore + 2,
      consumer: {
        name: "work_echo",
        exists: true,
        numPending: depthBefore + 2,
        numAckPending: 0,
        numRedelivered: 0,
        pendingByPriority: { "5": depthBefore + 1, "9": 1 },
        paused: false,
      },
    });
    expect(queues["no.consumer"]).toEqual({
      subject: "work.no.consumer",
      depth: 0,
      consumer: {
        name: "work_no_consumer",
        exists: false,
        numPending: 0,
        numAckPending: 0,
        numRedelivered: 0,
        pendingByPriority: {},
        paused: false,
      },
    });
  });
});

describe("job types, OpenAPI and plumbing", () => {
  it("lists the registered types with their payload schemas", async () => {
    await using gw = await gateway();
    const response = await request(`${gw.baseUrl}/v1/job-types`);
    expect(response.status).toBe(200);
    const echo = (
      response.body.items as { type: string; payloadSchema?: Record<string, unknown> }[]
    ).find((t) => t.type === "echo");
    expect(echo?.payloadSchema).toMatchObject({ type: "object", required: ["message"] });
  });

  it("serves an OpenAPI 3.1 document that includes the registered types", async () => {
    await using gw = await gateway();
    const response = await request(`${gw.baseUrl}/openapi.json`);
    expect(response.status).toBe(200);
    expect(response.body.openapi).toBe("3.1.0");
    const schemas = (
      response.body.components as { schemas: Record<string, Record<string, unknown>> }
    ).schemas;
    expect(schemas["JobPayload.echo"]).toMatchObject({ required: ["message"] });
    expect(schemas["JobSubmission.echo"]).toBeDefined();
    // A type registered since is in the next document (it is built again when the types change).
    await gw.registry.register({ type: "openapi.later" });
    const later = await request(`${gw.baseUrl}/openapi.json`);
    const laterSchemas = (later.body.components as { schemas: Record<string, unknown> }).schemas;
    expect(laterSchemas["JobSubmission.openapi.later"]).toBeDefined();
    expect(laterSchemas["JobSubmission.echo"]).toBeDefined();
  });

  it("answers unknown routes and methods with JSON errors", async () => {
    await using gw = await gateway();
    const unknown = await request(`${gw.baseUrl}/v2/nothing`);
    expect(unknown.status).toBe(404);
    expect(unknown.body).toEqual({ error: "not_found", message: "no route for GET /v2/nothing" });

    const wrongMethod = await request(`${gw.baseUrl}/v1/stats`, { method: "DELETE" });
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.body.error).toBe("method_not_allowed");
    expect(wrongMethod.headers.get("allow")).toContain("GET");
    expect(wrongMethod.body.message).toBe("DELETE is not allowed on /v1/stats; allowed: HEAD, GET");
  });

  it("is healthy and ready while NATS and MongoDB are up", async () => {
    await using gw = await gateway();
    expect((await request(`${gw.baseUrl}/healthz`)).body).toEqual({ status: "ok" });
    const ready = await request(`${gw.baseUrl}/readyz`);
    expect(ready.status).toBe(200);
    expect(ready.body).toEqual({
      status: "ready",
      checks: { nats: { ok: true }, mongo: { ok: true } },
    });
  });
});

/** Cancels job `id` (expecting `202`) and reads back the cancel command the gateway stored. */
async function cancelled(gw: GatewayUnderTest, id: string) {
  const response = await request(`${gw.baseUrl}/v1/jobs/${id}/cancel`, {
    method: "POST",
    body: "{}",
  });
  expect(response.status).toBe(202);
  return gw.jsm.streams.getMessage(StreamName.Jobs, { last_by_subj: `jobs.cmd.cancel.${id}` });
}

describe("POST /v1/jobs/:id/cancel of a job whose latest events the read model does not show yet", () => {
  it("cancels at the failed attempt EVENTS holds, so the job shows cancelled at once", async () => {
    await using gw = await gateway();
    const js = jetstream(gw.nc);
    // The read model shows attempt 1 running; the projector holds back its failure a moment.
    const doc = { ...jobDoc(9001, "running"), _id: "job-held-failure" };
    await jobsCollection(gw.db).insertOne(doc);
    const failed: JobEvent = {
      jobId: doc._id,
      type: "echo",
      run: 1,
      traceId: doc.traceId,
      kind: "failed",
      attempt: 1,
      at: time(9003),
      error: { message: "still broken" },
      durationMs: 5,
      workerId: "w1",
      retryDelayMs: 600_000,
      startedAt: time(9002),
    };
    await js.publish(Subject.event(doc._id, "failed"), JSON.stringify(failed));

    const command = await cancelled(gw, doc._id);
    // At attempt 0 the cancel would rank below the failure until the retry, ten minutes on.
    expect(command?.json<{ attempt: number }>()).toMatchObject({ attempt: 1 });
  });
});

describe("a dead job just replayed, whose new run the read model does not show yet", () => {
  it("is shown queued in its new run, and cancelled in that run", async () => {
    await using gw = await gateway();
    const js = jetstream(gw.nc);
    const doc: JobDocument = {
      ...jobDoc(9101, "dead"),
      _id: "job-replayed",
      reason: "attempts_exhausted",
      finishedAt: time(9103),
    };
    await jobsCollection(gw.db).insertOne(doc);
    // The replay's queued event of run 2, stored with its work item, projected a moment later.
    const queued: JobEvent = {
      jobId: doc._id,
      type: "echo",
      run: 2,
      traceId: doc.traceId,
      kind: "queued",
      attempt: 0,
      at: time(9200),
      payload: doc.payload ?? null,
      priority: 5,
      maxAttempts: 4,
      submittedAt: time(9101),
      source: "rest",
    };
    await js.publish(Subject.event(doc._id, "queued"), JSON.stringify(queued));

    const shown = await request(`${gw.baseUrl}/v1/jobs/${doc._id}`);
    expect(shown.body).toMatchObject({ id: doc._id, status: "queued", run: 2 });

    const command = await cancelled(gw, doc._id);
    expect(command?.json<{ run: number }>()).toMatchObject({ run: 2 });
  });
});
