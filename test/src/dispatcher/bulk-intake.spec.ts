import { randomBytes } from "node:crypto";

import type { QueuedEvent, RejectedEvent, WorkItem } from "@conveyor/contracts";
import { createDispatcher } from "@conveyor/dispatcher";
import type { Dispatcher, DispatcherOptions } from "@conveyor/dispatcher";
import { JobTypeRegistry } from "@conveyor/job-registry";
import type { JobTypeSource } from "@conveyor/job-registry";
import { createLogger } from "@conveyor/service-kit";
import { uniqueName, waitFor } from "@conveyor/testing";
import { ensureTopology } from "@conveyor/topology";
import { headers as natsHeaders } from "@nats-io/transport-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";

import { consumerSettled, useNatsSuite } from "../support/nats-suite.ts";
import { publishRawHeaders } from "../support/raw-publish.ts";
import { sealStream } from "../support/sealed-stream.ts";
import { storedEvents, storedMessages } from "./stream-reader.ts";

const maxSubmissionBytes = 4096;
const uuidV7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}$/;

describe("dispatcher: bulk submissions", () => {
  const suite = useNatsSuite("dispatcher-test");
  let registry: JobTypeRegistry;
  let dispatcher: Dispatcher;
  /** What the dispatcher told its observer, as `queued:<type>:<jobs>` and `rejected:<reason>:<jobs>`. */
  const observed: string[] = [];

  const startDispatcher = (
    options: Partial<DispatcherOptions> = {},
    types: JobTypeSource = registry,
  ) =>
    createDispatcher({
      nc: suite.nc,
      js: suite.js,
      registry: types,
      tracing: suite.tracing,
      logger: createLogger("dispatcher-test", "silent"),
      options: { maxSubmissionBytes, concurrency: 8, bulkConcurrency: 2, ...options },
      observer: {
        queued: (type, jobs) => observed.push(`queued:${type}:${String(jobs)}`),
        rejected: (reason, jobs) => observed.push(`rejected:${reason}:${String(jobs)}`),
      },
    });

  beforeAll(async () => {
    registry = await JobTypeRegistry.open(suite.nc);
    await registry.register({
      type: "sleep",
      payloadSchema: z.toJSONSchema(z.object({ ms: z.int().min(0) })),
      retry: { maxAttempts: 2 },
    });
    dispatcher = await startDispatcher();
  });

  afterAll(async () => {
    await dispatcher.stop();
    await registry.close();
  });

  /** The stream sequence of the newest bulk published, which `bulkSettled` waits past. */
  let lastBulkSeq = 0;
  const publishBulk = async (
    body: unknown,
    options: { msgID?: string; traceparent?: string } = {},
  ) => {
    const headers = natsHeaders();
    if (options.traceparent) headers.set("traceparent", options.traceparent);
    const text = typeof body === "string" ? body : JSON.stringify(body);
    const ack = await suite.js.publish("jobs.bulk.sleep", text, {
      headers,
      ...(options.msgID === undefined ? {} : { msgID: options.msgID }),
    });
    lastBulkSeq = Math.max(lastBulkSeq, ack.seq);
    return ack;
  };

  const workItems = async () =>
    (await storedMessages(suite.jsm, "WORK")).map((m) => ({
      subject: m.subject,
      item: m.json<WorkItem>(),
    }));
  /** Work items of the jobs submitted with `batchId: marker`. */
  const itemsMarked = async (marker: string) =>
    (await workItems()).filter(({ item }) => item.batchId === marker);

  const bulkSettled = () =>
    consumerSettled(suite.jsm, "JOBS", "dispatcher-bulk-intake", {
      through: lastBulkSeq,
      message: "bulk intake never fully acknowledged",
    });

  const bulkRejections = async () =>
    (await storedEvents<RejectedEvent>(suite.jsm, "rejected"))
      .map((e) => e.body)
      .filter((r) => r.subject === "jobs.bulk.sleep");

  /** The rejections of bulk jobs whose raw preview holds `marker`. */
  const bulkRejectionsMarked = async (marker: string) =>
    (await bulkRejections()).filter((r) => r.rawPreview.includes(marker));

  it("queues each good job on the bulk's trace and records each bad one, named by its place", async () => {
    const given = uniqueName("given");
    const marker = uniqueName("bulk");
    const traceId = randomBytes(16).toString("hex");
    const traceparent = `00-${traceId}-${randomBytes(8).toString("hex")}-01`;
    const ack = await publishBulk(
      {
        jobs: [
          { id: given, payload: { ms: 1 }, priority: 7 },
          { payload: { ms: 2 }, maxAttempts: 5 },
          { id: "bad-payload", payload: { ms: "soon" } },
          { id: "keyed", payload: { ms: 3 }, idempotencyKey: "k" },
          { id: "other-type", type: "echo", payload: { ms: 4 } },
          // An id no message header can carry.
          { id: "line\nbreak", payload: { ms: 5 } },
        ].map((job) => ({ ...job, batchId: marker })),
      },
      { traceparent },
    );
    await bulkSettled();

    const queued = (await storedEvents<QueuedEvent>(suite.jsm, "queued")).filter(
      (e) => e.body.batchId === marker,
    );
    expect(queued).toHaveLength(2);
    const work = await itemsMarked(marker);
    // Each on its priority's lane.
    expect(work.map(({ subject }) => subject)).toEqual(["work.sleep._p7", "work.sleep"]);
    const [first, second] = work.map(({ item }) => item);
    expect(first).toMatchObject({ id: given, priority: 7, maxAttempts: 2, payload: { ms: 1 } });
    expect(second).toMatchObject({ maxAttempts: 5, payload: { ms: 2 } });
    expect(second?.id).toMatch(uuidV7);
    const stored = await suite.jsm.streams.getMessage("JOBS", { seq: ack.seq });
    expect(first?.submittedAt).toBe(stored?.time.toISOString());
    for (const event of queued) expect(event.body.traceId).toBe(traceId);

    const rejected = await bulkRejections();
    const byJob = new Map(rejected.map((r) => [r.jobId, r]));
    expect(byJob.get("bad-payload")).toMatchObject({
      reason: "invalid_payload",
      issues: [{ path: "jobs[2].payload.ms" }],
      traceId,
    });
    expect(byJob.get("bad-payload")?.message).toMatch(/^jobs\[2\]: invalid payload/);
    expect(byJob.get("keyed")).toMatchObject({
      reason: "invalid_envelope",
      issues: [{ path: "jobs[3].idempotencyKey" }],
    });
    expect(byJob.get("other-type")).toMatchObject({
      reason: "type_mismatch",
      issues: [{ path: "jobs[4].type" }],
    });
    expect(byJob.get("other-type")?.rawPreview).toContain('"other-type"');
    expect(byJob.get("line\nbreak")).toMatchObject({
      reason: "invalid_envelope",
      issues: [{ path: "jobs[5].id" }],
    });
  });

  it("tells its observer how many jobs of a bulk it queued and refused, by reason", async () => {
    observed.length = 0;
    await publishBulk({
      jobs: [
        { payload: { ms: 1 } },
        { payload: { ms: 2 } },
        { payload: { ms: "soon" } },
        { payload: { ms: -1 } },
        { type: "echo", payload: { ms: 3 } },
      ],
    });
    await bulkSettled();

    expect(observed.sort()).toEqual([
      "queued:sleep:2",
      "rejected:invalid_payload:2",
      "rejected:type_mismatch:1",
    ]);
  });

  it("counts every job of a bulk it acknowledges with a queued event that can never be stored", async () => {
    await registry.register({ type: "bulk.open" });
    observed.length = 0;
    const { config } = await suite.jsm.streams.info("EVENTS");
    // The second job's queued event (its payload with it) is over EVENTS' limit, for good.
    await suite.jsm.streams.update("EVENTS", { ...config, max_msg_size: 2500 });
    try {
      const jobs = [{ payload: { n: 1 } }, { payload: { pad: "x".repeat(3000) } }];
      const ack = await suite.js.publish("jobs.bulk.bulk.open", JSON.stringify({ jobs }));
      lastBulkSeq = Math.max(lastBulkSeq, ack.seq);
      await bulkSettled();
    } finally {
      await suite.jsm.streams.update("EVENTS", config);
    }
    // Both are queued (their work items are stored): the metrics say so.
    expect(observed).toEqual(["queued:bulk.open:2"]);
  });

  it("records a body that is no bulk as one rejection naming the field, and keeps going", async () => {
    const cases = [
      { body: "not json {mark-json", reason: "invalid_json", path: "(root)" },
      { body: { jobs: [], note: "mark-empty" }, reason: "invalid_envelope", path: "jobs" },
      {
        body: [{ payload: { ms: 1 }, mark: "mark-array" }],
        reason: "invalid_envelope",
        path: "(root)",
      },
    ];
    const seqs = [];
    for (const c of cases) seqs.push((await publishBulk(c.body)).seq);
    const marker = uniqueName("after-bad-bulks");
    await publishBulk({ jobs: [{ payload: { ms: 1 }, batchId: marker }] });

    await waitFor(async () => (await itemsMarked(marker)).length === 1, {
      message: "the good bulk after the bad ones was not dispatched",
    });
    await bulkSettled();
    const rejected = await bulkRejections();
    for (const c of cases) {
      const text = typeof c.body === "string" ? c.body : JSON.stringify(c.body);
      const mark = /mark-[a-z]+/.exec(text)![0];
      const found = rejected.find((r) => r.rawPreview.includes(mark));
      expect(found, mark).toMatchObject({ reason: c.reason, sizeBytes: Buffer.byteLength(text) });
      expect(
        found?.issues.map((i) => i.path),
        mark,
      ).toContain(c.path);
    }
  });

  it("records a bulk whose headers cannot be read as one rejection naming them, and keeps going", async () => {
    const marker = uniqueName("bad-headers-bulk");
    // A header name with a space: other clients send it, nats.js throws on reading it.
    await publishRawHeaders(
      suite.server.url,
      "jobs.bulk.sleep",
      ["bad key: x"],
      JSON.stringify({ jobs: [{ payload: { ms: 1 }, batchId: marker }] }),
    );
    lastBulkSeq = (await suite.jsm.streams.info("JOBS")).state.last_seq;
    const after = uniqueName("after-bad-headers-bulk");
    await publishBulk({ jobs: [{ payload: { ms: 1 }, batchId: after }] });

    await waitFor(async () => (await itemsMarked(after)).length === 1, {
      message: "the good bulk after the unreadable one was not dispatched",
    });
    await bulkSettled();
    const found = (await bulkRejections()).find((r) => r.rawPreview.includes(marker));
    expect(found).toMatchObject({ reason: "invalid_headers" });
    expect(found?.issues.map((i) => i.path)).toEqual(["(headers)"]);
    expect(await itemsMarked(marker)).toEqual([]);
  });

  it("refuses a job over the submission limit and queues the rest of its bulk", async () => {
    const marker = uniqueName("size");
    await publishBulk({
      jobs: [
        { id: "too-large", payload: { ms: 1, pad: "x".repeat(maxSubmissionBytes) } },
        { payload: { ms: 1 }, batchId: marker },
      ],
    });
    await waitFor(async () => (await itemsMarked(marker)).length === 1);
    await bulkSettled();
    const rejected = (await bulkRejections()).find((r) => r.jobId === "too-large");
    expect(rejected).toMatchObject({ reason: "too_large", issues: [{ path: "jobs[0]" }] });
  });

  it("continues a job's own trace when it carries one, and refuses a trace field that cannot travel", async () => {
    const marker = uniqueName("own-trace");
    const newTraceparent = () => {
      const traceId = randomBytes(16).toString("hex");
      return { traceId, traceparent: `00-${traceId}-${randomBytes(8).toString("hex")}-01` };
    };
    const message = newTraceparent();
    const own = newTraceparent();
    const ids = [uniqueName("own"), uniqueName("shared"), uniqueName("bad-trace")];
    await publishBulk(
      {
        jobs: [
          { id: ids[0], payload: { ms: 1 }, batchId: marker, traceparent: own.traceparent },
          { id: ids[1], payload: { ms: 1 }, batchId: marker },
          { id: ids[2], payload: { ms: 1 }, batchId: marker, traceparent: 7 },
        ],
      },
      { traceparent: message.traceparent },
    );
    await bulkSettled();

    const queued = (await storedEvents<QueuedEvent>(suite.jsm, "queued")).filter(
      (e) => e.body.batchId === marker,
    );
    const traceOf = new Map(queued.map((e) => [e.body.jobId, e.body.traceId]));
    expect(traceOf.get(ids[0]!)).toBe(own.traceId);
    expect(traceOf.get(ids[1]!)).toBe(message.traceId);
    expect(traceOf.has(ids[2]!)).toBe(false);
    // The work item carries the job's trace on to the worker, and its envelope no trace field.
    const work = (await storedMessages(suite.jsm, "WORK")).find(
      (m) => m.json<WorkItem>().id === ids[0],
    );
    expect(work?.header.get("traceparent")).toContain(own.traceId);
    expect(work?.json<Record<string, unknown>>()).not.toHaveProperty("traceparent");

    const rejected = (await bulkRejections()).find((r) => r.jobId === ids[2]);
    expect(rejected).toMatchObject({
      reason: "invalid_envelope",
      issues: [{ path: "jobs[2].traceparent" }],
      traceId: message.traceId,
    });
  });

  it("queues a job once when its bulk is published again, under the same or another message id", async () => {
    const ids = [uniqueName("again"), uniqueName("again")];
    const body = { jobs: ids.map((id) => ({ id, payload: { ms: 1 } })) };
    await publishBulk(body, { msgID: `bulk-${ids[0]}` });
    const duplicate = await publishBulk(body, { msgID: `bulk-${ids[0]}` });
    expect(duplicate.duplicate).toBe(true);
    // Another message id (another producer sending the same jobs): the work items collapse.
    await publishBulk(body, { msgID: `other-${ids[0]}` });
    await bulkSettled();
    const work = (await workItems()).filter(({ item }) => ids.includes(item.id));
    expect(work.map(({ item }) => item.id).sort()).toEqual([...ids].sort());
  });

  it("retries a bulk while EVENTS is away, queues its jobs meanwhile, and stores each record once", async () => {
    const marker = uniqueName("outage");
    await suite.jsm.streams.delete("EVENTS");
    await publishBulk({
      jobs: [{ payload: { ms: 1 } }, { payload: { ms: 2 } }].map((job) => ({
        ...job,
        batchId: marker,
      })),
    });

    // The work items leave with the events: the jobs are queued even though their events are not.
    await waitFor(async () => (await itemsMarked(marker)).length === 2, {
      message: "no work items while EVENTS was away",
    });
    await waitFor(async () => {
      const info = await suite.jsm.consumers.info("JOBS", "dispatcher-bulk-intake");
      return info.num_redelivered > 0;
    });

    await ensureTopology(suite.jsm);
    const ids = (await itemsMarked(marker)).map(({ item }) => item.id);
    const queuedOf = async () =>
      (await storedEvents<QueuedEvent>(suite.jsm, "queued")).filter((e) =>
        ids.includes(e.body.jobId),
      );
    await waitFor(async () => (await queuedOf()).length === 2, {
      message: "the queued events were never stored after EVENTS came back",
      timeoutMs: 20_000,
    });
    await bulkSettled();
    // Every retry published the work items again, under the same derived ids: they collapsed.
    expect(await itemsMarked(marker)).toHaveLength(2);
    expect(await queuedOf()).toHaveLength(2);
  });

  it("refuses a job whose id an earlier job of the same bulk has, and queues the first", async () => {
    const id = uniqueName("twice");
    const marker = uniqueName("twice-batch");
    await publishBulk({
      jobs: [
        { id, payload: { ms: 1 }, batchId: marker },
        { id, payload: { ms: 2 }, batchId: marker },
      ],
    });
    await bulkSettled();
    expect((await itemsMarked(marker)).map(({ item }) => item.payload)).toEqual([{ ms: 1 }]);
    const rejected = (await bulkRejections()).find((r) => r.jobId === id);
    expect(rejected).toMatchObject({
      reason: "invalid_envelope",
      issues: [{ path: "jobs[1].id" }],
    });
    expect(rejected?.message).toContain("the same id as jobs[0]");
  });

  it("records each job it could not queue within its deliveries, not for an outage, as unprocessable, by its own id", async () => {
    await dispatcher.stop();
    dispatcher = await startDispatcher({ giveUpAfterDeliveries: 2 });
    // Sealed, WORK refuses every message with an answer about it (400), not as an outage.
    await sealStream(suite.jsm, "WORK");
    try {
      const given = uniqueName("stuck");
      await publishBulk({
        jobs: [{ id: given, payload: { ms: 1 } }, { payload: { ms: 2 } }],
      });
      const rejections = await waitFor(
        async () => {
          const found = (await bulkRejections()).filter((r) => r.reason === "unprocessable");
          const mine = found.filter(
            (r) => r.rawPreview.includes('"ms":1') || r.rawPreview.includes('"ms":2'),
          );
          return mine.length === 2 && mine;
        },
        { message: "the bulk's jobs were not recorded as unprocessable", timeoutMs: 20_000 },
      );
      const byPath = new Map(rejections.map((r) => [r.issues[0]?.path, r]));
      expect(byPath.get("jobs[0]")?.jobId).toBe(given);
      expect(byPath.get("jobs[1]")?.jobId).toMatch(uuidV7);
      for (const r of rejections) expect(r.message).toContain("after 2 deliveries");
      // The queued events were stored (EVENTS was up) under the same ids the rejections name.
      const queued = (await storedEvents<QueuedEvent>(suite.jsm, "queued")).map(
        (e) => e.body.jobId,
      );
      expect(queued).toEqual(expect.arrayContaining(rejections.map((r) => r.jobId)));
      await bulkSettled();
    } finally {
      await suite.jsm.streams.delete("WORK");
      await ensureTopology(suite.jsm);
      await dispatcher.stop();
      dispatcher = await startDispatcher();
    }
  });

  it("records a refused job of a retried bulk once, however often the bulk is delivered", async () => {
    const marker = uniqueName("again-refused");
    const bad = uniqueName("bad");
    await suite.jsm.streams.delete("WORK");
    try {
      await publishBulk({
        jobs: [
          { id: bad, payload: { ms: "soon" } },
          { payload: { ms: 1 }, batchId: marker },
        ],
      });
      // The good job's work item cannot be stored: the bulk is delivered again.
      await waitFor(async () => {
        const info = await suite.jsm.consumers.info("JOBS", "dispatcher-bulk-intake");
        return info.num_redelivered > 0;
      });
    } finally {
      await ensureTopology(suite.jsm);
    }
    await waitFor(async () => (await itemsMarked(marker)).length === 1, {
      message: "the good job was not queued once WORK came back",
      timeoutMs: 20_000,
    });
    await bulkSettled();
    const stored = (await storedEvents<RejectedEvent>(suite.jsm, "rejected")).filter(
      (e) => e.body.jobId === bad,
    );
    expect(stored).toHaveLength(1);
    expect(stored[0]?.body.issues).toEqual([
      expect.objectContaining({ path: "jobs[0].payload.ms" }),
    ]);
  });

  /**
   * Waits until the bulk at `seq`, failing, is past a give-up after 2 deliveries: delivered again
   * 1 s after its first failure, then 2 s after the second.
   */
  const pastGiveUp = async (seq: number) => {
    await waitFor(
      async () => {
        const info = await suite.jsm.consumers.info("JOBS", "dispatcher-bulk-intake");
        return info.num_redelivered > 0 && info.delivered.stream_seq >= seq;
      },
      { message: "the bulk was never redelivered" },
    );
    await new Promise((resolve) => setTimeout(resolve, 4_000));
  };

  /**
   * Publishes a bulk of two jobs of a type no registry has seen, to a dispatcher that gives up
   * after 2 deliveries and reads types from `types`; resolves with the type.
   */
  const bulkOfUnseenType = async (types: JobTypeSource) => {
    await dispatcher.stop();
    dispatcher = await startDispatcher({ giveUpAfterDeliveries: 2 }, types);
    const type = uniqueName("unseen").replaceAll("_", "-");
    const ack = await suite.js.publish(
      `jobs.bulk.${type}`,
      JSON.stringify({ jobs: [{ payload: 1 }, { payload: 2 }] }),
    );
    lastBulkSeq = Math.max(lastBulkSeq, ack.seq);
    return { type, seq: ack.seq };
  };

  const rejectionsOn = async (subject: string) =>
    (await storedEvents<RejectedEvent>(suite.jsm, "rejected"))
      .map((e) => e.body)
      .filter((r) => r.subject === subject);

  /** A registry whose reads of types it has not seen fail with `fault`, as a defect would. */
  const failingLookups = (fault: (type: string) => Error): JobTypeSource => ({
    get: (type) => registry.get(type),
    lookup: (type) => Promise.reject(fault(type)),
  });

  it("records each job of a bulk whose type lookup keeps failing, not for an outage, as unprocessable on its last delivery, in its own trace", async () => {
    const given = uniqueName("given");
    await dispatcher.stop();
    dispatcher = await startDispatcher(
      { giveUpAfterDeliveries: 2 },
      failingLookups(() => new TypeError("a defect")),
    );
    const type = uniqueName("unseen").replaceAll("_", "-");
    const ack = await suite.js.publish(
      `jobs.bulk.${type}`,
      JSON.stringify({ jobs: [{ id: given, payload: 1 }, { payload: 2 }] }),
    );
    lastBulkSeq = Math.max(lastBulkSeq, ack.seq);
    try {
      const rejections = await waitFor(
        async () => {
          const mine = await rejectionsOn(`jobs.bulk.${type}`);
          return mine.length === 2 && mine;
        },
        { message: "the bulk's jobs were not recorded", timeoutMs: 20_000 },
      );
      const byPath = new Map(rejections.map((r) => [r.issues[0]?.path, r]));
      // The id its submitter gave (the gateway gives every job one); a job without one was never
      // given one, as for any job refused before it is queued.
      expect(byPath.get("jobs[0]")?.jobId).toBe(given);
      expect(byPath.get("jobs[1]")?.jobId).toBeUndefined();
      for (const r of rejections) {
        expect(r.reason).toBe("unprocessable");
        expect(r.message).toContain("TypeError: a defect (after 2 deliveries)");
      }
      // Each in its job's own trace, as its queued event would have been.
      expect(new Set(rejections.map((r) => r.traceId)).size).toBe(2);
      await bulkSettled();
      expect(await rejectionsOn(`jobs.bulk.${type}`)).toHaveLength(2);
    } finally {
      await dispatcher.stop();
      dispatcher = await startDispatcher();
    }
  });

  it("retries a bulk whose work items cannot be stored while WORK is away, past its give-up, and queues it once WORK is back", async () => {
    await dispatcher.stop();
    dispatcher = await startDispatcher({ giveUpAfterDeliveries: 2 });
    const marker = uniqueName("bulk-outage");
    await suite.jsm.streams.delete("WORK");
    try {
      const { seq } = await publishBulk({
        jobs: [
          { payload: { ms: 1 }, batchId: marker },
          { payload: { ms: 2 }, batchId: marker },
        ],
      });
      await pastGiveUp(seq);
      expect(await bulkRejectionsMarked(marker)).toEqual([]);
    } finally {
      await ensureTopology(suite.jsm);
    }
    try {
      await waitFor(async () => (await itemsMarked(marker)).length === 2, {
        message: "the bulk's jobs were never queued once WORK was back",
        timeoutMs: 40_000,
      });
      await bulkSettled();
      expect(await bulkRejectionsMarked(marker)).toEqual([]);
    } finally {
      await dispatcher.stop();
      dispatcher = await startDispatcher();
    }
  });

  it("records no job given up on its last attempt while another job of the bulk failed for an outage, and queues both once they can be", async () => {
    await dispatcher.stop();
    dispatcher = await startDispatcher({ giveUpAfterDeliveries: 2 });
    const marker = uniqueName("half-outage");
    const deliveries = async () =>
      (await suite.jsm.consumers.info("JOBS", "dispatcher-bulk-intake")).delivered.consumer_seq;
    // The scheduled job's hold is refused for a reason of its own (SCHEDULES sealed) ...
    await sealStream(suite.jsm, "SCHEDULES");
    try {
      const before = await deliveries();
      await publishBulk({
        jobs: [
          { payload: { ms: 1 }, batchId: marker, delayMs: 600_000 },
          { payload: { ms: 2 }, batchId: marker },
        ],
      });
      // ... once, then the other job's work item for an outage (WORK gone) on the last attempt
      // and after: the scheduled job is given up on, the bulk retried for the outage.
      await waitFor(async () => (await itemsMarked(marker)).length === 1, {
        message: "the other job was never queued on the first delivery",
        intervalMs: 5,
      });
      await suite.jsm.streams.delete("WORK");
      await waitFor(async () => (await deliveries()) - before >= 3, {
        message: "the bulk was not delivered past its last attempt",
      });
      expect(await bulkRejectionsMarked(marker)).toEqual([]);
    } finally {
      await suite.jsm.streams.delete("SCHEDULES");
      await ensureTopology(suite.jsm);
    }
    try {
      // Both streams back: both jobs are queued, neither recorded as refused.
      await waitFor(
        async () =>
          (await itemsMarked(marker)).length === 1 &&
          (await storedMessages(suite.jsm, "SCHEDULES")).some((m) => m.string().includes(marker)),
        { message: "the bulk's jobs were never queued", timeoutMs: 40_000 },
      );
      await bulkSettled();
      expect(await bulkRejectionsMarked(marker)).toEqual([]);
    } finally {
      await dispatcher.stop();
      dispatcher = await startDispatcher();
    }
  });

  // Last: it deletes the job-types bucket the tests above rely on.
  it("retries a bulk whose type cannot be looked up while NATS cannot answer, past its give-up, and queues it once it can", async () => {
    // The suite's registry registered "sleep" and would put the bucket back at once: closed, and
    // the dispatcher reads types through one that registered nothing.
    await registry.close();
    const reader = await JobTypeRegistry.open(suite.nc);
    await suite.jsm.streams.delete("KV_conveyor-job-types");
    const { type, seq } = await bulkOfUnseenType(reader);
    try {
      await pastGiveUp(seq);
      expect(await rejectionsOn(`jobs.bulk.${type}`)).toEqual([]);
      // Stopped meanwhile: a delivery between the bucket's return and the type's registration
      // would find the type unknown.
      await dispatcher.stop();
      await ensureTopology(suite.jsm);
      await reader.register({ type });
      dispatcher = await startDispatcher({ giveUpAfterDeliveries: 2 }, reader);
      await waitFor(
        async () => (await workItems()).filter((w) => w.subject === `work.${type}`).length === 2,
        {
          message: "the bulk's jobs were never queued once the type could be read",
          timeoutMs: 40_000,
        },
      );
      await bulkSettled();
      expect(await rejectionsOn(`jobs.bulk.${type}`)).toEqual([]);
    } finally {
      await ensureTopology(suite.jsm);
      await dispatcher.stop();
      await reader.close();
      registry = await JobTypeRegistry.open(suite.nc);
      dispatcher = await startDispatcher();
    }
  });
});
