import {
  ClientClosedError,
  InvalidSubmissionError,
  JobClient,
  SubmissionNotConfirmedError,
} from "@conveyor/client";
import type { BulkJobToSubmit, JobToSubmit } from "@conveyor/client";
import { Header, StreamName, Subject, newJobId } from "@conveyor/contracts";
import { Tracing } from "@conveyor/telemetry";
import { startNatsServer } from "@conveyor/testing";
import type { NatsServerHandle } from "@conveyor/testing";
import { ensureTopology } from "@conveyor/topology";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import type { JetStreamManager } from "@nats-io/jetstream";
import { connect, headers } from "@nats-io/transport-node";
import type { NatsConnection } from "@nats-io/transport-node";
import { InMemorySpanExporter, SimpleSpanProcessor } from "@opentelemetry/sdk-trace";
import { ROOT_CONTEXT, TraceFlags, context, trace } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { publishRawHeaders } from "../support/raw-publish.ts";

/**
 * A server without streams whose submissions a subscriber takes and never answers, as while
 * JetStream is away, and a connection of the test's own to it.
 */
async function unansweredIntake(): Promise<AsyncDisposable & { own: NatsConnection }> {
  const bare = await startNatsServer();
  const listener = await connect({ servers: bare.url });
  listener.subscribe(Subject.submit(">"), { callback: () => undefined });
  listener.subscribe(Subject.submitBulkAll, { callback: () => undefined });
  await listener.flush();
  const own = await connect({ servers: bare.url });
  return {
    own,
    [Symbol.asyncDispose]: async () => {
      await own.close();
      await listener.close();
      await bare[Symbol.asyncDispose]();
    },
  };
}

describe("JobClient against a real nats-server", () => {
  let server: NatsServerHandle;
  let nc: NatsConnection;
  let jsm: JetStreamManager;
  let client: JobClient;

  beforeAll(async () => {
    server = await startNatsServer();
    nc = await connect({ servers: server.url });
    jsm = await jetstreamManager(nc);
    await ensureTopology(jsm);
    client = new JobClient(nc);
  });

  afterAll(async () => {
    await client.close();
    await nc.close();
    await server[Symbol.asyncDispose]();
  });

  const storedSubmissions = async () => (await jsm.streams.info(StreamName.Jobs)).state.messages;

  describe("follow", () => {
    const at = () => new Date().toISOString();
    const base = (jobId: string) => ({ jobId, type: "mail.send", run: 1, at: at() });
    const progress = (jobId: string, seq: number) => ({
      ...base(jobId),
      kind: "progress",
      attempt: 1,
      done: seq,
      total: 9,
      seq,
    });
    const store = (jobId: string, event: { kind: string; [field: string]: unknown }) =>
      jetstream(nc).publish(Subject.event(jobId, event.kind as never), JSON.stringify(event));

    it("gives the job as it is, then only what moves it forward, and ends at its outcome", async () => {
      const id = newJobId();
      await store(id, {
        ...base(id),
        kind: "queued",
        attempt: 0,
        payload: null,
        priority: 5,
        maxAttempts: 3,
        submittedAt: at(),
        source: "nats",
      });
      await store(id, { ...base(id), kind: "started", attempt: 1, workerId: "w-1" });
      await store(id, progress(id, 2));
      const follow = client.follow(id, { timeoutMs: 10_000 });
      const given: string[] = [];
      const next = async () => {
        const step = await follow.next();
        if (!step.done) {
          const event = step.value;
          given.push(event.kind === "progress" ? `progress ${String(event.seq)}` : event.kind);
        }
        return step;
      };
      for (let i = 0; i < 3; i++) await next();
      expect(given).toEqual(["queued", "started", "progress 2"]);
      // An older report heard late is skipped; a newer one comes.
      await store(id, progress(id, 1));
      await store(id, progress(id, 3));
      await next();
      expect(given.at(-1)).toBe("progress 3");
      await store(id, { ...base(id), kind: "cancelled", attempt: 1, reason: "not needed" });
      // A report still in flight after the end is not the job's any more.
      await store(id, progress(id, 4));
      await next();
      expect(given.at(-1)).toBe("cancelled");
      expect((await next()).done).toBe(true);
      expect(given).toEqual(["queued", "started", "progress 2", "progress 3", "cancelled"]);
    });

    it("ends the follows still open when the client closes", async () => {
      const own = new JobClient(nc);
      const id = newJobId();
      await store(id, progress(id, 1));
      const follow = own.follow(id, { timeoutMs: 60_000 });
      expect((await follow.next()).done).toBe(false);
      const pending = follow.next();
      await own.close();
      const asked = Date.now();
      expect((await pending).done).toBe(true);
      expect(Date.now() - asked).toBeLessThan(3000);
      expect(() => own.follow(id)).toThrow(ClientClosedError);
    });
  });

  it("stores a submission on its type's subject, deduplicated by the job id", async () => {
    const submitted = await client.submit({ type: "mail.send", payload: { to: "a@b.c" } });
    expect(submitted.duplicate).toBe(false);

    const stored = await jsm.streams.getMessage(StreamName.Jobs, {
      last_by_subj: Subject.submit("mail.send"),
    });
    expect(stored?.json()).toMatchObject({
      id: submitted.id,
      type: "mail.send",
      payload: { to: "a@b.c" },
      priority: 5,
    });
    expect(stored?.header.get(Header.MsgId)).toBe(submitted.id);
    expect(stored?.header.get(Header.JobId)).toBe(submitted.id);
    expect(stored?.header.get(Header.JobType)).toBe("mail.send");
    // No source header: the dispatcher records the job as submitted over NATS.
    expect(stored?.header.has(Header.Source)).toBe(false);

    const again = await client.submit({ id: submitted.id, type: "mail.send" });
    expect(again).toMatchObject({ id: submitted.id, duplicate: true });
  });

  it("starts each job's trace in a PRODUCER span whose context travels in traceparent", async () => {
    const exporter = new InMemorySpanExporter();
    const tracing = Tracing.create({
      serviceName: "producer",
      spanProcessors: [new SimpleSpanProcessor({ exporter })],
    });
    const traced = new JobClient(nc, { tracing });
    try {
      const submitted = await traced.submit({ type: "traced.job" });
      const [span] = exporter.getFinishedSpans();
      expect(span?.name).toBe("send jobs.submit.traced.job");
      expect(span?.spanContext().traceId).toBe(submitted.traceId);
      const stored = await jsm.streams.getMessage(StreamName.Jobs, {
        last_by_subj: Subject.submit("traced.job"),
      });
      const traceparent = stored?.header.get(Header.TraceParent) ?? "";
      expect(traceparent).toBe(
        `00-${span?.spanContext().traceId}-${span?.spanContext().spanId}-01`,
      );
    } finally {
      await traced.close();
    }
    // Without a tracing of its own the client makes no span, and without an active one sends none.
    const plain = await client.submit({ type: "traced.job" });
    expect(plain.traceId).toBeUndefined();
    const untraced = await jsm.streams.getMessage(StreamName.Jobs, {
      last_by_subj: Subject.submit("traced.job"),
    });
    expect(untraced?.header.has(Header.TraceParent)).toBe(false);
  });

  it("sends the caller's active trace as traceparent without a tracing of its own, whatever the app's propagator", async () => {
    // An app with a context manager and no W3C propagator (say B3, or none registered).
    const manager = new AsyncLocalStorageContextManager().enable();
    context.setGlobalContextManager(manager);
    try {
      const caller = trace.setSpanContext(ROOT_CONTEXT, {
        traceId: "4bf92f3577b34da6a3ce929d0e0e4736",
        spanId: "00f067aa0ba902b7",
        traceFlags: TraceFlags.SAMPLED,
      });
      const submitted = await context.with(caller, () => client.submit({ type: "traced.app" }));
      expect(submitted.traceId).toBe("4bf92f3577b34da6a3ce929d0e0e4736");
      const stored = await jsm.streams.getMessage(StreamName.Jobs, {
        last_by_subj: Subject.submit("traced.app"),
      });
      expect(stored?.header.get(Header.TraceParent)).toBe(
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
      );
    } finally {
      context.disable();
    }
  });

  it("answers a bulk job that carries its own traceparent with that trace's id", async () => {
    const own: BulkJobToSubmit = {
      type: "echo",
      payload: 1,
      traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
    };
    const malformed: BulkJobToSubmit = { type: "echo", payload: 2, traceparent: "not-a-trace" };
    const [mine, broken, plain] = await client.submitBulk([
      own,
      malformed,
      { type: "echo", payload: 3 },
    ]);
    expect(mine).toMatchObject({ ok: true, traceId: "0af7651916cd43dd8448eb211c80319c" });
    // A malformed traceparent is ignored (the job starts a trace of its own at the dispatcher).
    expect(broken).toMatchObject({ ok: true, traceId: undefined });
    expect(plain).toMatchObject({ ok: true, traceId: undefined });
  });

  it("traces a bulk in one PRODUCER span, whose trace its jobs share", async () => {
    const exporter = new InMemorySpanExporter();
    const tracing = Tracing.create({
      serviceName: "producer",
      spanProcessors: [new SimpleSpanProcessor({ exporter })],
    });
    const traced = new JobClient(nc, { tracing });
    try {
      // A job with a traceparent W3C cannot read starts a trace of its own at the dispatcher,
      // whose id the client cannot know: not the bulk's.
      const unreadable: BulkJobToSubmit = { type: "traced.bulk", traceparent: "not-a-trace" };
      const results = await traced.submitBulk([
        { type: "traced.bulk" },
        { type: "traced.bulk" },
        unreadable,
      ]);
      const spans = exporter.getFinishedSpans();
      expect(spans.map((span) => span.name)).toEqual(["send jobs.bulk.traced.bulk"]);
      const traceId = spans[0]?.spanContext().traceId;
      expect(results).toMatchObject([
        { ok: true, traceId },
        { ok: true, traceId },
        { ok: true, traceId: undefined },
      ]);
      const stored = await jsm.streams.getMessage(StreamName.Jobs, {
        last_by_subj: Subject.submitBulk("traced.bulk"),
      });
      expect(stored?.header.get(Header.TraceParent)).toBe(
        `00-${traceId}-${spans[0]?.spanContext().spanId}-01`,
      );
    } finally {
      await traced.close();
    }
  });

  it("answers a repeated idempotency key with the first job's id", async () => {
    const idempotencyKey = `order-${newJobId()}`;
    const first = await client.submit({ type: "echo", idempotencyKey });
    const before = await storedSubmissions();
    const second = await client.submit({ id: newJobId(), type: "echo", idempotencyKey });
    expect(second).toMatchObject({ id: first.id, duplicate: true });
    expect(await storedSubmissions()).toBe(before);
  });

  it("reads a duplicate's first id from the stored body when its producer set no id header", async () => {
    const idempotencyKey = `cli-${newJobId()}`;
    const firstId = newJobId();
    // As the nats CLI publishes it: the envelope, and the key as Nats-Msg-Id.
    await jetstream(nc).publish(Subject.submit("echo"), JSON.stringify({ id: firstId }), {
      msgID: idempotencyKey,
    });
    expect(await client.submit({ type: "echo", idempotencyKey })).toMatchObject({
      id: firstId,
      duplicate: true,
    });
  });

  it("reads a duplicate's first id as the dispatcher does when body and header name different ids", async () => {
    const idempotencyKey = `raw-${newJobId()}`;
    const bodyId = newJobId();
    const headerId = newJobId();
    const h = headers();
    h.set(Header.JobId, headerId);
    await jetstream(nc).publish(Subject.submit("echo"), JSON.stringify({ id: bodyId }), {
      msgID: idempotencyKey,
      headers: h,
    });
    // The dispatcher runs the job under the body's id; the header's names no job.
    expect(await client.submit({ type: "echo", idempotencyKey })).toMatchObject({
      id: bodyId,
      duplicate: true,
    });
  });

  it("answers an id that collides with another job's idempotency key with that job's id", async () => {
    const key = `order-${newJobId()}`;
    const first = await client.submit({ type: "echo", idempotencyKey: key });
    // Ids and keys share one deduplication space: this id is the first job's key.
    const again = await client.submit({ id: key, type: "echo" });
    expect(again).toMatchObject({ id: first.id, duplicate: true });
  });

  it("refuses a submission over the size limit before publishing", async () => {
    const small = new JobClient(nc, { maxSubmissionBytes: 1024 });
    try {
      const before = await storedSubmissions();
      await expect(
        small.submit({ type: "echo", payload: { text: "x".repeat(2000) } }),
      ).rejects.toMatchObject({ name: "InvalidSubmissionError", reason: "too_large" });
      expect(await storedSubmissions()).toBe(before);
    } finally {
      await small.close();
    }
  });

  it("refuses a job larger than the server's max_payload as too large, not as unconfirmed", async () => {
    // A client whose limit is above what the server takes: the publish itself is refused.
    const lax = new JobClient(nc, { maxSubmissionBytes: 4 * 1024 * 1024 });
    try {
      const before = await storedSubmissions();
      const huge = { type: "echo", payload: "x".repeat(nc.info!.max_payload + 1) };
      await expect(lax.submit(huge)).rejects.toMatchObject({
        name: "InvalidSubmissionError",
        reason: "too_large",
      });
      const [result] = await lax.submitBulk([huge]);
      expect(result).toMatchObject({
        ok: false,
        error: { name: "InvalidSubmissionError", reason: "too_large" },
      });
      expect(await storedSubmissions()).toBe(before);
    } finally {
      await lax.close();
    }
  });

  it("gives the id a submission was sent with when it is not confirmed, to submit it again", async () => {
    const other = await connect({ servers: server.url });
    const closing = new JobClient(other, { timeoutMs: 500 });
    await other.close();
    const failed = await closing.submit({ type: "echo", payload: 1 }).catch((e: unknown) => e);
    expect(failed).toBeInstanceOf(SubmissionNotConfirmedError);
    const { jobId } = failed as SubmissionNotConfirmedError;
    // Closed before it was sent: certainly not stored, and not said to be "sent".
    expect(failed).toMatchObject({ maybeStored: false });
    expect((failed as Error).message).toBe(`job ${jobId} was not stored: the connection is closed`);
    const [result] = await closing.submitMany([{ id: jobId, type: "echo" }]);
    expect(result).toMatchObject({ ok: false, id: jobId });

    expect(await client.submit({ id: jobId, type: "echo", payload: 1 })).toMatchObject({
      id: jobId,
      duplicate: false,
    });
  });

  it("says a submission no stream captures was not stored, naming its subject", async () => {
    await using bare = await startNatsServer();
    const other = await connect({ servers: bare.url });
    try {
      const failed = await new JobClient(other)
        .submit({ type: "echo", payload: 1 })
        .catch((e: unknown) => e);
      expect(failed).toBeInstanceOf(SubmissionNotConfirmedError);
      expect(failed).toMatchObject({ maybeStored: false });
      expect((failed as Error).message).toContain(
        `was not stored: no stream captures ${Subject.submit("echo")}`,
      );
    } finally {
      await other.close();
    }
  });

  it("says a submission the stream refused for its size was not stored, with the stream's reason", async () => {
    await using bare = await startNatsServer();
    const other = await connect({ servers: bare.url });
    try {
      const jsm = await jetstreamManager(other);
      await jsm.streams.add({ name: "SMALL", subjects: ["jobs.>"], max_msg_size: 16 });
      const refused = new JobClient(other);
      const failed = await refused.submit({ type: "echo", payload: 1 }).catch((e: unknown) => e);
      expect(failed).toBeInstanceOf(SubmissionNotConfirmedError);
      expect(failed).toMatchObject({ maybeStored: false });
      expect((failed as Error).message).toMatch(/was not stored: the stream refused it: .*size/);
      const [bulk] = await refused.submitBulk([{ type: "echo", payload: 1 }]);
      expect(bulk).toMatchObject({ ok: false, error: { maybeStored: false } });
      await refused.close();
    } finally {
      await other.close();
    }
  });

  it("sends the jobs of a bulk the stream refused for its size again one by one", async () => {
    await using bare = await startNatsServer();
    const other = await connect({ servers: bare.url });
    try {
      const jsm = await jetstreamManager(other);
      // One job's bulk message (about 200 bytes) fits; five in one message do not.
      await jsm.streams.add({ name: "SMALL", subjects: ["jobs.>"], max_msg_size: 400 });
      const client = new JobClient(other);
      const jobs = Array.from({ length: 5 }, (_, n) => ({
        id: `one-by-one-${n}`,
        type: "echo",
        payload: "x".repeat(100),
      }));
      const results = await client.submitBulk(jobs);
      expect(results.map((r) => r.ok)).toEqual(Array(5).fill(true));
      const stored: string[] = [];
      const { last_seq } = (await jsm.streams.info("SMALL")).state;
      for (let seq = 1; seq <= last_seq; seq++) {
        const msg = await jsm.streams.getMessage("SMALL", { seq });
        if (msg !== null)
          stored.push(...msg.json<{ jobs: { id: string }[] }>().jobs.map((j) => j.id));
      }
      expect(stored.sort()).toEqual(jobs.map((job) => job.id));
      // A job too large on its own is still refused, and only it.
      const [big, small] = await client.submitBulk([
        { type: "echo", payload: "x".repeat(500) },
        { type: "echo", payload: "y" },
      ]);
      expect(big).toMatchObject({ ok: false, error: { maybeStored: false } });
      expect(small).toMatchObject({ ok: true });
      await client.close();
    } finally {
      await other.close();
    }
  });

  it("says a submission whose acknowledgement never came may be stored", async () => {
    await using bare = await startNatsServer();
    const other = await connect({ servers: bare.url });
    try {
      // A responder that never answers: the request is delivered, and what became of it is unknown.
      other.subscribe(Subject.submit(">"), { callback: () => undefined });
      await other.flush();
      const failed = await new JobClient(other, { timeoutMs: 300 })
        .submit({ type: "echo", payload: 1 })
        .catch((e: unknown) => e);
      expect(failed).toBeInstanceOf(SubmissionNotConfirmedError);
      expect(failed).toMatchObject({ maybeStored: true });
      expect((failed as Error).message).toContain("was sent but not confirmed stored");
    } finally {
      await other.close();
    }
  });

  it("says a submission sent before close() may be stored when the connection closes while close() waits", async () => {
    // Delivered, never answered: stored or not is unknown once the connection is gone.
    await using intake = await unansweredIntake();
    const { own } = intake;
    {
      const closing = new JobClient(own);
      const sent = closing.submit({ type: "echo", payload: 1 }).catch((e: unknown) => e);
      await own.flush();

      const closed = closing.close();
      await own.close();
      await closed;

      const failed = await sent;
      expect(failed).toBeInstanceOf(SubmissionNotConfirmedError);
      expect(failed).toMatchObject({ maybeStored: true, jobId: expect.any(String) as unknown });
    }
  });

  it("close() lets every round of a submitMany and a submitBulk called before it be sent and settle", async () => {
    const closing = new JobClient(nc);
    let manySettled = false;
    // Three rounds of submitMany, two of submitBulk (16 messages of 1,000 jobs each per round).
    const many = closing
      .submitMany(Array.from({ length: 2500 }, (_, i) => ({ type: "echo", payload: i })))
      .finally(() => {
        manySettled = true;
      });
    const bulk = closing.submitBulk(
      Array.from({ length: 17_000 }, (_, i) => ({ type: "echo", payload: i })),
    );

    await closing.close();

    expect(manySettled).toBe(true);
    const results = [...(await many), ...(await bulk)];
    expect(results.filter((result) => !result.ok).map((result) => String(result.error))).toEqual(
      [],
    );
    await expect(closing.submit({ type: "echo" })).rejects.toBeInstanceOf(ClientClosedError);
  });

  it("close() does not send the rounds left once one goes unconfirmed, so it does not wait a deadline per round", async () => {
    // Delivered, never answered, as while JetStream is away.
    await using intake = await unansweredIntake();
    {
      const closing = new JobClient(intake.own, { timeoutMs: 300 });
      const many = closing.submitMany(
        Array.from({ length: 5000 }, (_, i) => ({ type: "echo", payload: i })),
      );
      await closing.close();
      const results = await many;
      expect(
        results
          .slice(0, 1000)
          .every((r) => !r.ok && r.error instanceof SubmissionNotConfirmedError),
      ).toBe(true);
      expect(results.slice(1000).every((r) => !r.ok && r.error instanceof ClientClosedError)).toBe(
        true,
      );
    }
  });

  it.each(["submitMany", "submitBulk"] as const)(
    "%s bounds a round by its bytes, not only its count: large jobs are not all in flight at once",
    async (method) => {
      await using intake = await unansweredIntake();
      const closing = new JobClient(intake.own, { timeoutMs: 300 });
      const jobBytes = 200_000;
      // 20 MB in 100 jobs: under the rounds' counts (1,000 jobs, 16 bulk messages of up to 1 MB).
      const jobs = Array.from({ length: 100 }, () => ({
        type: "echo",
        payload: "x".repeat(jobBytes),
      }));
      const submitting = closing[method](jobs);
      await closing.close();
      const results = await submitting;

      // The first round went unconfirmed; the rounds after it were not sent.
      const unconfirmed = results.filter(
        (r) => !r.ok && r.error instanceof SubmissionNotConfirmedError,
      ).length;
      const unsent = results.filter((r) => !r.ok && r.error instanceof ClientClosedError).length;
      expect(unconfirmed + unsent).toBe(jobs.length);
      expect(unconfirmed).toBeGreaterThan(0);
      expect(unconfirmed * jobBytes).toBeLessThanOrEqual(8 * 1024 * 1024);
    },
  );

  it("refuses submissions after close() as never sent, not as unconfirmed", async () => {
    const closed = new JobClient(nc);
    await closed.close();
    const before = await storedSubmissions();

    await expect(closed.submit({ type: "echo", payload: 1 })).rejects.toBeInstanceOf(
      ClientClosedError,
    );
    const [bulk] = await closed.submitBulk([{ type: "echo", payload: 1 }]);
    expect(bulk).toMatchObject({ ok: false, error: expect.any(ClientClosedError) as unknown });
    expect(await storedSubmissions()).toBe(before);
  });

  it("refuses a bad envelope before publishing, naming the field", async () => {
    const before = await storedSubmissions();
    const refused = client.submit({ type: "echo", priority: 12 });
    await expect(refused).rejects.toBeInstanceOf(InvalidSubmissionError);
    await expect(refused).rejects.toMatchObject({
      reason: "invalid_envelope",
      issues: [{ path: "priority" }],
    });
    expect(await storedSubmissions()).toBe(before);
  });

  it("submits many at once, one result per job in order, a refused one apart", async () => {
    const ids = [newJobId(), newJobId(), newJobId()];
    const results = await client.submitMany([
      { id: ids[0], type: "echo", payload: 1 },
      // Not JSON, as a JavaScript caller (or a cast) can pass.
      { id: ids[1], type: "echo", payload: { at: new Date(0) } } as unknown as JobToSubmit,
      { id: ids[2], type: "echo", payload: 3 },
    ]);
    expect(results[0]).toMatchObject({ ok: true, id: ids[0], duplicate: false });
    expect(results[1]).toMatchObject({ ok: false, error: { reason: "invalid_payload" } });
    expect(results[2]).toMatchObject({ ok: true, id: ids[2], duplicate: false });
    const lastEcho = await jsm.streams.getMessage(StreamName.Jobs, {
      last_by_subj: Subject.submit("echo"),
    });
    expect(lastEcho?.json()).toMatchObject({ id: ids[2], payload: 3 });
  });

  it.each(["submitMany", "submitBulk"] as const)(
    "%s answers an entry that is no job at all with its refusal, and the others with theirs",
    async (method) => {
      const id = newJobId();
      const notJobs = [null, undefined, 7, "echo"] as unknown as JobToSubmit[];

      const results = await client[method]([{ id, type: "echo", payload: 1 }, ...notJobs]);

      expect(results).toHaveLength(5);
      expect(results[0]).toMatchObject({ ok: true, id });
      for (const result of results.slice(1)) {
        expect(result).toMatchObject({
          ok: false,
          id: undefined,
          error: { reason: "invalid_envelope" },
        });
      }
    },
  );

  it("submits in bulk: one message per type, results in order, a refused job apart, a resend stored once", async () => {
    const before = await storedSubmissions();
    const given = newJobId();
    const jobs: JobToSubmit[] = [
      { id: given, type: "bulk.a", payload: 1 },
      { type: "bulk.b", payload: 2 },
      { type: "bulk.a", priority: 12 },
      { type: "bulk.a", idempotencyKey: "key-1" },
      { type: "bulk.a", payload: 5 },
      // The same id as the first: it would collapse into it and never run.
      { id: given, type: "bulk.a", payload: 6 },
    ];
    const results = await client.submitBulk(jobs);
    expect(results.map((r) => r.ok)).toEqual([true, true, false, false, true, false]);
    expect(results[5]).toMatchObject({
      ok: false,
      error: { reason: "invalid_envelope", issues: [{ path: "id" }] },
    });
    expect(results[0]).toMatchObject({ ok: true, id: given, duplicate: false });
    expect(results[2]).toMatchObject({
      ok: false,
      error: { reason: "invalid_envelope", issues: [{ path: "priority" }] },
    });
    expect(results[3]).toMatchObject({
      ok: false,
      error: { reason: "invalid_envelope", issues: [{ path: "idempotencyKey" }] },
    });
    expect(await storedSubmissions()).toBe(before + 2);

    const ids = results.map((r) => (r.ok ? r.id : undefined));
    const bulkA = await jsm.streams.getMessage(StreamName.Jobs, {
      last_by_subj: Subject.submitBulk("bulk.a"),
    });
    expect(bulkA?.json()).toEqual({
      jobs: [
        { id: given, type: "bulk.a", payload: 1, priority: 5 },
        { id: ids[4], type: "bulk.a", payload: 5, priority: 5 },
      ],
    });
    expect(bulkA?.header.get(Header.JobType)).toBe("bulk.a");
    const bulkB = await jsm.streams.getMessage(StreamName.Jobs, {
      last_by_subj: Subject.submitBulk("bulk.b"),
    });
    expect(bulkB?.json()).toEqual({
      jobs: [{ id: ids[1], type: "bulk.b", payload: 2, priority: 5 }],
    });

    // The same jobs again (as after an unconfirmed publish): the bulk collapses into the first.
    const again = await client.submitBulk([
      { id: given, type: "bulk.a", payload: 1 },
      { id: ids[4], type: "bulk.a", payload: 5 },
    ]);
    expect(again).toMatchObject([
      { ok: true, id: given, duplicate: true },
      { ok: true, id: ids[4], duplicate: true },
    ]);
    expect(await storedSubmissions()).toBe(before + 2);
  });

  it("answers every job of a bulk it could not confirm with the id to submit it again", async () => {
    const other = await connect({ servers: server.url });
    const closing = new JobClient(other, { timeoutMs: 500 });
    await other.close();
    const results = await closing.submitBulk([{ type: "echo" }, { type: "echo" }]);
    expect(results).toHaveLength(2);
    for (const result of results) {
      expect(result.ok).toBe(false);
      if (result.ok) continue;
      expect(result.error).toBeInstanceOf(SubmissionNotConfirmedError);
      expect(result.error).toMatchObject({ jobId: result.id, maybeStored: false });
    }
  });

  describe("waitFor", () => {
    const at = "2026-12-07T10:00:00.000Z";
    const queued = (jobId: string, run: number) => ({
      kind: "queued",
      jobId,
      type: "echo",
      at,
      run,
      attempt: 0,
      payload: null,
      priority: 5,
      maxAttempts: 1,
      submittedAt: at,
      source: "nats",
    });
    const succeeded = (jobId: string, run: number, result: unknown) => ({
      kind: "succeeded",
      jobId,
      type: "echo",
      at,
      run,
      attempt: 1,
      result,
      durationMs: 1,
      workerId: "w-1",
    });
    const dead = (jobId: string, run: number) => ({
      kind: "dead",
      jobId,
      type: "echo",
      at,
      run,
      attempt: 1,
      error: { message: "boom" },
      reason: "attempts_exhausted",
    });
    const record = async (event: { jobId: string; kind: string }) => {
      await jetstream(nc).publish(
        Subject.event(event.jobId, event.kind as "queued"),
        JSON.stringify(event),
      );
    };

    it("resolves at once with the outcome of a job that has finished", async () => {
      const id = newJobId();
      await record(queued(id, 1));
      await record(succeeded(id, 1, { done: true }));
      expect(await client.waitFor(id, { timeoutMs: 5000 })).toMatchObject({
        kind: "succeeded",
        jobId: id,
        result: { done: true },
      });
    });

    it("waits for a job not known yet, and for a replayed dead job's new run", async () => {
      const fresh = newJobId();
      const waiting = client.waitFor(fresh, { timeoutMs: 10_000 });
      await new Promise((resolve) => setTimeout(resolve, 200));
      await record(queued(fresh, 1));
      await record(dead(fresh, 1));
      expect(await waiting).toMatchObject({ kind: "dead", error: { message: "boom" } });

      const replayed = newJobId();
      await record(dead(replayed, 1));
      await record(queued(replayed, 2));
      const again = client.waitFor(replayed, { timeoutMs: 10_000 });
      await new Promise((resolve) => setTimeout(resolve, 200));
      await record(succeeded(replayed, 2, "second"));
      expect(await again).toMatchObject({ kind: "succeeded", run: 2, result: "second" });
    });

    it("reads past a stored event whose header nats.js cannot read, and goes on hearing NATS", async () => {
      // Its own connection: before the fix, this one stopped reading.
      const own = await connect({ servers: server.url });
      const reader = new JobClient(own);
      try {
        const odd = newJobId();
        await record(queued(odd, 1));
        // As another client may store it: nats.js throws reading a header name with a space.
        await publishRawHeaders(
          server.url,
          Subject.event(odd, "succeeded"),
          ["bad key: x"],
          JSON.stringify(succeeded(odd, 1, "odd")),
        );
        expect(await reader.waitFor(odd, { timeoutMs: 300 })).toBeUndefined();

        const next = newJobId();
        await record(queued(next, 1));
        await record(succeeded(next, 1, "next"));
        expect(await reader.waitFor(next, { timeoutMs: 5000 })).toMatchObject({
          kind: "succeeded",
          result: "next",
        });
      } finally {
        await reader.close();
        await own.close();
      }
    });

    it("resolves undefined when the time runs out or the signal aborts", async () => {
      const id = newJobId();
      await record(queued(id, 1));
      expect(await client.waitFor(id, { timeoutMs: 300 })).toBeUndefined();
      const gone = new AbortController();
      const waiting = client.waitFor(id, { timeoutMs: 30_000, signal: gone.signal });
      gone.abort();
      expect(await waiting).toBeUndefined();

      const closed = new JobClient(nc);
      await closed.close();
      await expect(closed.waitFor(id)).rejects.toBeInstanceOf(ClientClosedError);
    });
  });
});
