import { randomBytes } from "node:crypto";

import type { QueuedEvent, RejectedEvent, WorkItem } from "@conveyor/contracts";
import { createDispatcher } from "@conveyor/dispatcher";
import type { Dispatcher, DispatcherOptions } from "@conveyor/dispatcher";
import { JobTypeRegistry } from "@conveyor/job-registry";
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

describe("dispatcher", () => {
  const suite = useNatsSuite("dispatcher-test");
  let registry: JobTypeRegistry;
  let dispatcher: Dispatcher;
  /** What the dispatcher told its observer, as `queued:<type>:<jobs>` and `rejected:<reason>:<jobs>`. */
  const observed: string[] = [];

  /** A dispatcher on this suite's connection, registry and tracing. */
  const startDispatcher = (options: DispatcherOptions) =>
    createDispatcher({
      nc: suite.nc,
      js: suite.js,
      registry,
      tracing: suite.tracing,
      logger: createLogger("dispatcher-test", "silent"),
      options,
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
      timeoutMs: 7_000,
    });
    await registry.register({ type: "echo" });
    dispatcher = await startDispatcher({ maxSubmissionBytes, concurrency: 8 });
  });

  afterAll(async () => {
    await dispatcher.stop();
    await registry.close();
  });

  /** The stream sequence of the newest submission, which `intakeSettled` waits past. */
  let lastSubmittedSeq = 0;
  const submit = async (
    subject: string,
    body: string | Uint8Array,
    msgID?: string,
    traceparent?: string,
  ) => {
    const headers = natsHeaders();
    if (traceparent) headers.set("traceparent", traceparent);
    const options = msgID === undefined ? { headers } : { msgID, headers };
    const ack = await suite.js.publish(subject, body, options);
    lastSubmittedSeq = Math.max(lastSubmittedSeq, ack.seq);
    return ack;
  };

  const workFor = async (jobId: string) =>
    (await storedMessages(suite.jsm, "WORK")).filter((m) => m.json<WorkItem>().id === jobId);

  const queuedFor = async (jobId: string) =>
    (await storedEvents<QueuedEvent>(suite.jsm, "queued")).filter((e) => e.body.jobId === jobId);

  const rejectionOf = (subject: string, marker: string, timeoutMs?: number) =>
    waitFor(
      async () =>
        (await storedEvents<RejectedEvent>(suite.jsm, "rejected")).find(
          (e) => e.body.subject === subject && e.body.rawPreview.includes(marker),
        ),
      { message: `no rejection on ${subject} for ${marker}`, ...(timeoutMs ? { timeoutMs } : {}) },
    );

  const intakeSettled = () =>
    consumerSettled(suite.jsm, "JOBS", "dispatcher-intake", {
      through: lastSubmittedSeq,
      message: "intake never fully acknowledged",
    });

  it("turns a valid submission into a work item and a queued event on the publisher's trace", async () => {
    const jobId = uniqueName("job");
    const traceId = randomBytes(16).toString("hex");
    const traceparent = `00-${traceId}-${randomBytes(8).toString("hex")}-01`;
    const ack = await submit(
      "jobs.submit.sleep",
      JSON.stringify({ id: jobId, payload: { ms: 5 }, priority: 7 }),
      jobId,
      traceparent,
    );

    const [work] = await waitFor(async () => {
      const found = await workFor(jobId);
      return found.length > 0 && found;
    });
    const [queued] = await waitFor(async () => {
      const found = await queuedFor(jobId);
      return found.length > 0 && found;
    });
    const intake = await suite.jsm.streams.getMessage("JOBS", { seq: ack.seq });
    const submittedAt = intake!.time.toISOString();

    // Priority 7's lane.
    expect(work!.subject).toBe("work.sleep._p7");
    expect(work!.json<WorkItem>()).toEqual({
      id: jobId,
      type: "sleep",
      payload: { ms: 5 },
      priority: 7,
      maxAttempts: 2,
      timeoutMs: 7_000,
      submittedAt,
      run: 1,
    });
    expect(work!.header.get("traceparent")).toMatch(new RegExp(`^00-${traceId}-[0-9a-f]{16}-01$`));
    expect(work!.header.get("Conveyor-Job-Id")).toBe(jobId);
    expect(work!.header.get("Nats-Msg-Id")).toBe(`${jobId}:1`);

    expect(queued!.subject).toBe(`events.${jobId}.queued`);
    expect(queued!.body).toMatchObject({
      kind: "queued",
      jobId,
      type: "sleep",
      run: 1,
      attempt: 0,
      traceId,
      submittedAt,
      source: "nats",
      maxAttempts: 2,
      payload: { ms: 5 },
    });
    await intakeSettled();
  });

  it("tells its observer of each job it queued and each submission it refused, by reason", async () => {
    observed.length = 0;
    await submit("jobs.submit.sleep", JSON.stringify({ payload: { ms: 1 } }));
    await submit("jobs.submit.sleep", JSON.stringify({ payload: { ms: -1 } }));
    await submit("jobs.submit.nobody.runs", JSON.stringify({ payload: 1 }));
    await intakeSettled();

    expect(observed.sort()).toEqual([
      "queued:sleep:1",
      "rejected:invalid_payload:1",
      "rejected:unknown_type:1",
    ]);
  });

  it("applies per-job overrides and generates an id when the envelope has none", async () => {
    const marker = uniqueName("no-id");
    await submit(
      "jobs.submit.echo",
      JSON.stringify({ payload: { marker }, maxAttempts: 9, timeoutMs: 50 }),
    );
    const work = await waitFor(async () =>
      (await storedMessages(suite.jsm, "WORK", (s) => s === "work.echo")).find((m) =>
        JSON.stringify(m.json<WorkItem>().payload).includes(marker),
      ),
    );
    const item = work.json<WorkItem>();
    expect(item.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(item).toMatchObject({ maxAttempts: 9, timeoutMs: 50 });
    await waitFor(async () => (await queuedFor(item.id)).length === 1);
  });

  it("records each kind of bad submission as a rejection naming the field, and keeps going", async () => {
    const cases = [
      {
        subject: "jobs.submit.sleep",
        body: "not json {mark-json",
        reason: "invalid_json",
        path: "(root)",
      },
      {
        subject: "jobs.submit.sleep",
        body: JSON.stringify({ id: "mark-envelope", payload: { ms: 1 }, maxAttempts: 0 }),
        reason: "invalid_envelope",
        path: "maxAttempts",
      },
      {
        subject: "jobs.submit.nope",
        body: JSON.stringify({ id: "mark-unknown", payload: {} }),
        reason: "unknown_type",
        path: "type",
      },
      {
        subject: "jobs.submit.sleep",
        body: JSON.stringify({ id: "mark-payload", payload: { ms: "soon" } }),
        reason: "invalid_payload",
        path: "payload.ms",
      },
      {
        subject: "jobs.submit.sleep",
        body: JSON.stringify({ id: "mark-mismatch", type: "echo", payload: {} }),
        reason: "type_mismatch",
        path: "type",
      },
      {
        subject: "jobs.submit.echo",
        body: JSON.stringify({ id: "mark-large", payload: "x".repeat(maxSubmissionBytes) }),
        reason: "too_large",
        path: "(root)",
      },
      {
        // Deep enough to overflow a recursive validator, small enough to pass the size limit.
        subject: "jobs.submit.echo",
        body: `{"id":"mark-deep","payload":${"[".repeat(1800)}${"]".repeat(1800)}}`,
        reason: "invalid_payload",
        path: "payload",
      },
      {
        subject: "jobs.submit.echo",
        body: JSON.stringify({ id: "mark-nul", payload: { "a\u0000b": 1 } }),
        reason: "invalid_payload",
        path: "payload.a\\u0000b",
      },
      {
        // A 64-bit integer JSON.parse would read rounded: refused rather than run with another.
        subject: "jobs.submit.echo",
        body: '{"id":"mark-bigint","payload":{"message":"x","orderId":1234567890123456789}}',
        reason: "invalid_payload",
        path: "payload.orderId",
      },
      {
        // An id no message header can carry: the rejection keeps it in its body only.
        subject: "jobs.submit.echo",
        body: JSON.stringify({ id: "mark-newline\r\nx", payload: {} }),
        reason: "invalid_envelope",
        path: "id",
        jobId: "mark-newline\r\nx",
      },
    ];
    for (const c of cases) await submit(c.subject, c.body);
    const validId = uniqueName("after-poison");
    await submit("jobs.submit.sleep", JSON.stringify({ id: validId, payload: { ms: 1 } }));

    for (const c of cases) {
      const marker = /mark-[a-z]+/.exec(c.body)![0];
      const { subject, body } = await rejectionOf(c.subject, marker);
      expect(subject).toBe(`events.${body.rejectionId}.rejected`);
      expect(body.reason, marker).toBe(c.reason);
      expect(
        body.issues.map((i) => i.path),
        marker,
      ).toContain(c.path);
      expect(body.sizeBytes).toBe(Buffer.byteLength(c.body));
      expect(body.rawPreview).toBe(c.body.slice(0, 2048));
      if (c.reason !== "invalid_json" && c.reason !== "too_large")
        expect(body.jobId, marker).toBe("jobId" in c ? c.jobId : marker);
    }
    await waitFor(async () => (await workFor(validId)).length === 1, {
      message: "the valid submission after the bad ones was not dispatched",
    });
    await intakeSettled();
  });

  it("queues a job id once even when two stored submissions carry it (different message ids)", async () => {
    // JOBS keeps both (their Nats-Msg-Ids differ, as two idempotency keys would); the dispatcher
    // must still queue the job once, through the work item's own message id.
    const jobId = uniqueName("dup");
    const body = JSON.stringify({ id: jobId, payload: { ms: 2 } });
    await submit("jobs.submit.sleep", body, `${jobId}-first`);
    const second = await submit("jobs.submit.sleep", body, `${jobId}-second`);
    expect(second.duplicate).toBe(false);

    await waitFor(async () => (await queuedFor(jobId)).length >= 1);
    await intakeSettled();
    expect(await workFor(jobId)).toHaveLength(1);
    expect(await queuedFor(jobId)).toHaveLength(1);
  });

  const itemsMarked = async (marker: string) =>
    (await storedMessages(suite.jsm, "WORK", (s) => s === "work.echo")).filter((m) =>
      JSON.stringify(m.json<WorkItem>().payload).includes(marker),
    );

  it("queues the work item while EVENTS is away, retries the queued event until it is stored, and stores the item once", async () => {
    const marker = uniqueName("outage");
    await suite.jsm.streams.delete("EVENTS");
    await submit("jobs.submit.echo", JSON.stringify({ payload: { marker } }));

    // The work item leaves with the event: the job is queued even though its event is not.
    const [work] = await waitFor(
      async () => {
        const found = await itemsMarked(marker);
        return found.length > 0 && found;
      },
      { message: "no work item while EVENTS was away" },
    );
    await waitFor(async () => {
      const info = await suite.jsm.consumers.info("JOBS", "dispatcher-intake");
      return info.num_redelivered > 0;
    });

    await ensureTopology(suite.jsm);
    const jobId = work!.json<WorkItem>().id;
    await waitFor(async () => (await queuedFor(jobId)).length === 1, {
      message: "the queued event was never stored after EVENTS came back",
      timeoutMs: 20_000,
    });
    await intakeSettled();
    // Every retry published the work item again; its Nats-Msg-Id collapsed each one.
    expect(await itemsMarked(marker)).toHaveLength(1);
    const queued = await queuedFor(jobId);
    expect(queued).toHaveLength(1);
    // A submission without a traceparent gets its trace from the dispatcher: every delivery of it
    // the same one, so the job's work item (which the worker continues) and its queued event,
    // stored by a later delivery, are one trace.
    const workTrace = work!.header.get("traceparent").split("-")[1];
    expect(workTrace).toMatch(/^[0-9a-f]{32}$/);
    expect(queued[0]?.body.traceId).toBe(workTrace);
  });

  it("acknowledges a queued job whose event cannot be stored within its deliveries, recording no rejection", async () => {
    await dispatcher.stop();
    dispatcher = await startDispatcher({
      maxSubmissionBytes,
      concurrency: 2,
      giveUpAfterDeliveries: 2,
    });
    const marker = uniqueName("no-events");
    // With EVENTS gone no rejection could be stored: watch for one being published at all.
    const attempted: string[] = [];
    const rejections = suite.nc.subscribe("events.*.rejected", {
      callback: (_err, msg) => {
        attempted.push(msg.string());
      },
    });
    await suite.jsm.streams.delete("EVENTS");
    try {
      await submit("jobs.submit.echo", JSON.stringify({ payload: { marker } }));
      // Recording a rejection would need EVENTS too and keep the submission pending; a queued
      // job is acknowledged instead, while EVENTS is still gone.
      await intakeSettled();
      expect(await itemsMarked(marker)).toHaveLength(1);
    } finally {
      await ensureTopology(suite.jsm);
      await dispatcher.stop();
      dispatcher = await startDispatcher({ maxSubmissionBytes, concurrency: 8 });
    }
    await suite.nc.flush();
    rejections.unsubscribe();
    expect(attempted.filter((text) => text.includes(marker))).toEqual([]);
  });

  it("records a submission whose headers cannot be read as a rejection naming them, and keeps going", async () => {
    const jobId = uniqueName("bad-headers");
    // A header name with a space: other clients send it, nats.js throws on reading it.
    await publishRawHeaders(
      suite.server.url,
      "jobs.submit.echo",
      ["bad key: x"],
      JSON.stringify({ id: jobId, payload: {} }),
    );
    lastSubmittedSeq = (await suite.jsm.streams.info("JOBS")).state.last_seq;
    const { body } = await rejectionOf("jobs.submit.echo", jobId);
    expect(body).toMatchObject({ reason: "invalid_headers", jobId });
    expect(body.message).toContain("not a valid character in a header name");
    expect(body.issues).toHaveLength(1);
    expect(body.issues[0]).toMatchObject({ path: "(headers)" });
    expect(body.issues[0]?.message).toContain("header name");

    const goodId = uniqueName("after-bad-headers");
    await submit("jobs.submit.echo", JSON.stringify({ id: goodId, payload: {} }), goodId);
    await waitFor(async () => (await queuedFor(goodId)).length === 1 || undefined, {
      message: "the next submission queued",
    });
    await intakeSettled();
  });

  /** Restarts the dispatcher to give a submission up after 2 deliveries. */
  const restartGivingUpAfterTwo = async () => {
    await dispatcher.stop();
    dispatcher = await startDispatcher({
      maxSubmissionBytes,
      concurrency: 2,
      giveUpAfterDeliveries: 2,
    });
  };

  /**
   * Runs `run` with a dispatcher that gives a submission up after 2 deliveries and a `WORK`
   * stream that refuses every message for a reason of its own (sealed: a 400 answer, not an
   * outage), then puts a new `WORK` in its place.
   */
  const withWorkStreamSealed = async (run: () => Promise<void>) => {
    await restartGivingUpAfterTwo();
    await sealStream(suite.jsm, "WORK");
    try {
      await run();
    } finally {
      await suite.jsm.streams.delete("WORK");
      await ensureTopology(suite.jsm);
    }
  };

  const rejectionsNaming = async (marker: string) =>
    (await storedEvents<RejectedEvent>(suite.jsm, "rejected")).filter((e) =>
      e.body.rawPreview.includes(marker),
    );

  it("retries a submission through an outage of WORK longer than its give-up, and queues it once WORK is back, recording no rejection", async () => {
    await restartGivingUpAfterTwo();
    await suite.jsm.streams.delete("WORK");
    const jobId = uniqueName("outage");
    try {
      const { seq } = await submit("jobs.submit.echo", JSON.stringify({ id: jobId, payload: {} }));
      // Past the give-up: delivered 1 s, then 2 s after the first failures.
      await waitFor(
        async () => {
          const info = await suite.jsm.consumers.info("JOBS", "dispatcher-intake");
          return info.num_redelivered > 0 && info.delivered.stream_seq >= seq && info;
        },
        { message: "the submission was never redelivered" },
      );
      await new Promise((resolve) => setTimeout(resolve, 4_000));
      expect(await rejectionsNaming(jobId)).toEqual([]);
    } finally {
      await ensureTopology(suite.jsm);
    }
    await waitFor(async () => (await workFor(jobId)).length === 1, {
      message: "the job was never queued once WORK was back",
      timeoutMs: 40_000,
    });
    await intakeSettled();
    expect(await queuedFor(jobId)).toHaveLength(1);
    expect(await rejectionsNaming(jobId)).toEqual([]);
  });

  it("does not count the deliveries an outage took toward giving a submission up", async () => {
    await restartGivingUpAfterTwo();
    await suite.jsm.streams.delete("WORK");
    const jobId = uniqueName("outage-then-refused");
    try {
      const deliveries = async () =>
        (await suite.jsm.consumers.info("JOBS", "dispatcher-intake")).delivered.consumer_seq;
      const before = await deliveries();
      await submit("jobs.submit.echo", JSON.stringify({ id: jobId, payload: {} }));
      // Three deliveries in the outage, past the give-up; the fourth comes 4 s after the third.
      await waitFor(async () => (await deliveries()) - before >= 3, {
        message: "the submission was not delivered three times",
      });
      // Then WORK refuses it for a reason of its own: two such failures give it up.
      await ensureTopology(suite.jsm);
      await sealStream(suite.jsm, "WORK");
      const { body } = await rejectionOf("jobs.submit.echo", jobId, 30_000);
      expect(body).toMatchObject({ reason: "unprocessable", jobId });
      expect(body.message).toContain("sealed stream");
      // The fourth and fifth deliveries failed so; the outage's three were not counted.
      expect(body.message).toContain("after 5 deliveries");
      await intakeSettled();
    } finally {
      await suite.jsm.streams.delete("WORK");
      await ensureTopology(suite.jsm);
    }
  });

  it("records a submission whose work item the stream keeps refusing, not an outage, as unprocessable after its deliveries", async () => {
    await withWorkStreamSealed(async () => {
      const jobId = uniqueName("stuck");
      await submit("jobs.submit.echo", JSON.stringify({ id: jobId, payload: {} }));
      const { body } = await rejectionOf("jobs.submit.echo", jobId);
      expect(body).toMatchObject({ reason: "unprocessable", jobId });
      expect(body.message).toContain("sealed stream");
      expect(body.message).toContain("after 2 deliveries");
      await intakeSettled();
    });
  });

  it("names the job id a submission without one was given, in its unprocessable rejection as in its queued event", async () => {
    await withWorkStreamSealed(async () => {
      const marker = uniqueName("stuck-no-id");
      await submit("jobs.submit.echo", JSON.stringify({ payload: { marker } }));
      const { body } = await rejectionOf("jobs.submit.echo", marker);
      const queued = (await storedEvents<QueuedEvent>(suite.jsm, "queued")).filter(
        (e) => JSON.stringify(e.body.payload) === JSON.stringify({ marker }),
      );
      expect(queued).toHaveLength(1);
      expect(body).toMatchObject({ reason: "unprocessable", jobId: queued[0]!.body.jobId });
      await intakeSettled();
    });
  });

  it("terminates a submission whose rejection would be refused on every delivery, instead of holding its slot", async () => {
    await restartGivingUpAfterTwo();
    const jobId = uniqueName("neither");
    await sealStream(suite.jsm, "WORK");
    const events = await suite.jsm.streams.info("EVENTS");
    // Too small for any event: the rejection, too, is refused for its size.
    await suite.jsm.streams.update("EVENTS", { max_msg_size: 64 });
    try {
      const { seq } = await submit("jobs.submit.echo", JSON.stringify({ id: jobId, payload: {} }));
      await intakeSettled();
      // Still in JOBS, for an operator to find.
      const stored = await suite.jsm.streams.getMessage("JOBS", { seq });
      expect(stored?.json<{ id: string }>().id).toBe(jobId);
    } finally {
      await suite.jsm.streams.update("EVENTS", { max_msg_size: events.config.max_msg_size });
      await suite.jsm.streams.delete("WORK");
      await ensureTopology(suite.jsm);
    }
  });

  it("keeps retrying a submission whose rejection a stream refuses for a reason an operator can mend", async () => {
    await restartGivingUpAfterTwo();
    const jobId = uniqueName("mendable");
    await sealStream(suite.jsm, "WORK");
    await sealStream(suite.jsm, "EVENTS");
    try {
      await submit("jobs.submit.echo", JSON.stringify({ id: jobId, payload: {} }));
      // Past the give-up, the rejection refused on each delivery: still held, not dropped.
      await new Promise((resolve) => setTimeout(resolve, 4_000));
      const info = await suite.jsm.consumers.info("JOBS", "dispatcher-intake");
      expect(info.num_ack_pending).toBe(1);
      // Mended: a new EVENTS takes the rejection and the submission is acknowledged.
      await suite.jsm.streams.delete("EVENTS");
      await ensureTopology(suite.jsm);
      const { body } = await rejectionOf("jobs.submit.echo", jobId, 40_000);
      expect(body).toMatchObject({ reason: "unprocessable", jobId });
      await intakeSettled();
    } finally {
      await suite.jsm.streams.delete("WORK");
      await ensureTopology(suite.jsm);
    }
  });

  it("settles each submission of a batch on its own: one that cannot be published does not hold up the rest", async () => {
    await dispatcher.stop();
    const marker = uniqueName("burst");
    const ids = Array.from({ length: 300 }, (_, i) => `${marker}-${i}`);
    const hugeId = `${marker}-huge`;
    // Storable as a submission, but its queued event and work item, which add fields and
    // headers, are over the suite.server's max_payload: a failure that would repeat on every delivery.
    const huge = JSON.stringify({
      id: hugeId,
      payload: "x".repeat(suite.nc.info!.max_payload - 300),
    });
    await Promise.all(
      ids.map((id, i) =>
        i === 150
          ? submit("jobs.submit.echo", huge, hugeId)
          : submit("jobs.submit.echo", JSON.stringify({ id, payload: { marker } }), id),
      ),
    );
    ids.splice(150, 1);

    dispatcher = await startDispatcher({ maxSubmissionBytes: 2 * 1024 * 1024, concurrency: 64 });
    await intakeSettled();
    const dispatched = (await storedMessages(suite.jsm, "WORK", (s) => s === "work.echo"))
      .map((m) => m.json<WorkItem>().id)
      .filter((id) => id.startsWith(marker));
    expect(dispatched.sort()).toEqual([...ids].sort());
    const queued = (await storedEvents<QueuedEvent>(suite.jsm, "queued")).filter((e) =>
      e.body.jobId.startsWith(marker),
    );
    expect(queued).toHaveLength(ids.length);
    const { body } = await rejectionOf("jobs.submit.echo", hugeId);
    expect(body).toMatchObject({ reason: "unprocessable", jobId: hugeId });
  });

  it("stops pulling on stop() after finishing what it holds", async () => {
    await dispatcher.stop();
    const jobId = uniqueName("after-stop");
    await submit("jobs.submit.echo", JSON.stringify({ id: jobId }));
    const info = await waitFor(async () => {
      const current = await suite.jsm.consumers.info("JOBS", "dispatcher-intake");
      return current.num_pending > 0 && current;
    });
    expect(info.num_ack_pending).toBe(0);

    dispatcher = await startDispatcher({ maxSubmissionBytes, concurrency: 2 });
    await waitFor(async () => (await workFor(jobId)).length === 1, {
      message: "a restarted dispatcher did not pick up the waiting submission",
    });
  });
});
