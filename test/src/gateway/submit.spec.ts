import { once } from "node:events";
import { connect as tcpConnect } from "node:net";
import { request as httpRequest } from "node:http";
import type { IncomingMessage } from "node:http";
import { gzipSync } from "node:zlib";

import { Header, StreamName } from "@conveyor/contracts";
import type { ValidationIssue } from "@conveyor/contracts";
import { JobTypeRegistry } from "@conveyor/job-registry";
import { jobsCollection } from "@conveyor/read-model";
import { DiscardPolicy, jetstream } from "@nats-io/jetstream";
import { SpanKind, SpanStatusCode } from "@opentelemetry/api";
import { InMemorySpanExporter, SimpleSpanProcessor } from "@opentelemetry/sdk-trace";
import { uniqueName } from "@conveyor/testing";
import { describe, expect, it } from "vitest";

import { useServerPair } from "../support/server-pair.ts";
import { pipelinedPosts, request, startGateway, submit, submitBulk } from "./gateway-fixture.ts";
import type { GatewayFixtureOptions, GatewayUnderTest } from "./gateway-fixture.ts";

const servers = useServerPair();

/** A POST through node:http, which sends headers exactly as given. */
async function rawPost(
  url: string,
  body: string,
  headers: Record<string, string | string[]>,
): Promise<{ status: number; text: string }> {
  const request = httpRequest(url, { method: "POST", headers });
  request.end(body);
  const [response] = (await once(request, "response")) as [IncomingMessage];
  let text = "";
  for await (const chunk of response) text += String(chunk);
  return { status: response.statusCode ?? 0, text };
}

/** A gateway on this file's servers, with the fixture's defaults unless `options` say otherwise. */
function gateway(
  options: Omit<GatewayFixtureOptions, "natsUrl" | "mongoUrl"> = {},
): Promise<GatewayUnderTest> {
  return startGateway({ natsUrl: servers.nats.url, mongoUrl: servers.mongo.url, ...options });
}

async function jobsStreamCount(gw: GatewayUnderTest): Promise<number> {
  return (await gw.jsm.streams.info(StreamName.Jobs)).state.messages;
}

describe("POST /v1/jobs", () => {
  it("answers 202 once the submission is stored in JOBS, with trace context and job headers", async () => {
    await using gw = await gateway();
    const response = await submit(gw, { type: "echo", payload: { message: "hi" }, priority: 7 });

    expect(response.status).toBe(202);
    const { id, status, traceId } = response.body;
    expect(status).toBe("queued");
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    expect(traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(response.headers.get("location")).toBe(`/v1/jobs/${String(id)}`);

    const stored = await gw.jsm.streams.getMessage(StreamName.Jobs, {
      last_by_subj: "jobs.submit.echo",
    });
    expect(stored).not.toBeNull();
    expect(stored!.header.get(Header.JobId)).toBe(id);
    expect(stored!.header.get(Header.Source)).toBe("rest");
    expect(stored!.header.get(Header.MsgId)).toBe(id);
    expect(stored!.header.get(Header.TraceParent)).toMatch(
      new RegExp(`^00-${String(traceId)}-[0-9a-f]{16}-01$`),
    );
    expect(stored!.json()).toEqual({
      id,
      type: "echo",
      payload: { message: "hi" },
      priority: 7,
    });
  });

  it("stores submissions without id or key that arrive together in bulk messages, each job on its own trace", async () => {
    const spans = new InMemorySpanExporter();
    await using gw = await gateway({
      spanProcessors: [new SimpleSpanProcessor({ exporter: spans })],
    });
    const before = (await gw.jsm.streams.info(StreamName.Jobs)).state.last_seq;
    const count = 40;
    const bodies = Array.from({ length: count }, (_, n) => ({
      type: "echo",
      payload: { message: `m${n}` },
    }));
    // Sent in one write on one connection (HTTP/1.1 pipelining), they reach the gateway together.
    const responses = await pipelinedPosts(gw.baseUrl, "/v1/jobs", bodies);

    expect(responses.map((r) => r.status)).toEqual(Array(count).fill(202));
    const ids = responses.map((r) => String(r.body.id));
    const traceIds = responses.map((r) => String(r.body.traceId));
    expect(new Set(ids).size).toBe(count);
    expect(new Set(traceIds).size).toBe(count);
    // What JOBS stored since: fewer messages than jobs, each job once, on its request's trace.
    const stored = [];
    const { last_seq } = (await gw.jsm.streams.info(StreamName.Jobs)).state;
    for (let seq = before + 1; seq <= last_seq; seq++) {
      const msg = await gw.jsm.streams.getMessage(StreamName.Jobs, { seq });
      if (msg !== null) stored.push(msg);
    }
    expect(stored.length).toBeLessThan(count);
    const traceOf = new Map<string, string>();
    const messageOf = new Map<string, string>();
    for (const msg of stored) {
      expect(msg.header.get(Header.Source)).toBe("rest");
      if (msg.subject === "jobs.submit.echo") {
        const job = msg.json<{ id: string }>();
        traceOf.set(job.id, msg.header.get(Header.TraceParent));
        continue;
      }
      expect(msg.subject).toBe("jobs.bulk.echo");
      for (const job of msg.json<{
        jobs: { id: string; traceparent: string; payload: unknown }[];
      }>().jobs) {
        traceOf.set(job.id, job.traceparent);
        messageOf.set(job.id, JSON.stringify(job.payload));
      }
    }
    expect([...traceOf.keys()].sort()).toEqual([...ids].sort());
    ids.forEach((id, n) => {
      expect(traceOf.get(id)).toMatch(new RegExp(`^00-${traceIds[n]!}-[0-9a-f]{16}-01$`));
      if (messageOf.has(id)) expect(messageOf.get(id)).toBe(JSON.stringify(bodies[n]!.payload));
    });
    // A tracing dashboard names each job's PRODUCER span after the subject its job really left on.
    const producers = spans.getFinishedSpans().filter((span) => span.kind === SpanKind.PRODUCER);
    expect(producers).toHaveLength(count);
    for (const span of producers) {
      const id = String(span.attributes["conveyor.job.id"]);
      const [subject, inBulk] = messageOf.has(id)
        ? ["jobs.bulk.echo", true]
        : ["jobs.submit.echo", false];
      expect(span.name).toBe(`send ${subject}`);
      expect(span.attributes["messaging.destination.name"]).toBe(subject);
      if (inBulk) expect(span.attributes["messaging.batch.message_count"]).toBeGreaterThan(1);
      else expect(span.attributes["messaging.batch.message_count"]).toBeUndefined();
    }
  });

  it("continues the caller's trace when the request carries a W3C traceparent, gathered or not", async () => {
    const spans = new InMemorySpanExporter();
    await using gw = await gateway({
      spanProcessors: [new SimpleSpanProcessor({ exporter: spans })],
    });
    const callerTrace = "4bf92f3577b34da6a3ce929d0e0e4736";
    for (const body of [
      { type: "echo", payload: { message: "gathered" } },
      { id: uniqueName("traced"), type: "echo", payload: { message: "alone" } },
    ]) {
      const response = await fetch(`${gw.baseUrl}/v1/jobs`, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          traceparent: `00-${callerTrace}-00f067aa0ba902b7-01`,
        },
        body: JSON.stringify(body),
      });
      expect(response.status).toBe(202);
      const { id, traceId } = (await response.json()) as { id: string; traceId: string };
      expect(traceId).toBe(callerTrace);
      const request = spans
        .getFinishedSpans()
        .find(
          (span) => span.kind === SpanKind.SERVER && span.spanContext().traceId === callerTrace,
        );
      expect(request?.parentSpanContext?.spanId).toBe("00f067aa0ba902b7");
      expect(request?.attributes["http.response.status_code"]).toBe(202);
      // What the dispatcher continues: the stored job's traceparent, in its message or its bulk entry.
      const single = await gw.jsm.streams.getMessage(StreamName.Jobs, {
        last_by_subj: "jobs.submit.echo",
      });
      const bulk = await gw.jsm.streams
        .getMessage(StreamName.Jobs, { last_by_subj: "jobs.bulk.echo" })
        .catch(() => null);
      const traceparent =
        single?.json<{ id: string }>().id === id
          ? single.header.get(Header.TraceParent)
          : bulk
              ?.json<{ jobs: { id: string; traceparent: string }[] }>()
              .jobs.find((job) => job.id === id)?.traceparent;
      expect(traceparent).toMatch(new RegExp(`^00-${callerTrace}-[0-9a-f]{16}-01$`));
      spans.reset();
    }
  });

  it("starts a trace of its own for every request when told not to continue callers' traces", async () => {
    // A gateway that untrusted clients reach: they must not choose how their jobs are traced.
    await using gw = await gateway({ continueTraces: false });
    const callerTrace = "4bf92f3577b34da6a3ce929d0e0e4736";
    const response = await fetch(`${gw.baseUrl}/v1/jobs`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        traceparent: `00-${callerTrace}-00f067aa0ba902b7-01`,
      },
      body: JSON.stringify({ type: "echo", payload: { message: "untrusted" } }),
    });
    expect(response.status).toBe(202);
    const { traceId } = (await response.json()) as { traceId: string };
    expect(traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(traceId).not.toBe(callerTrace);

    // Nor through the traceparent a bulk's job may carry: it continues the request's trace.
    const id = uniqueName("untrusted");
    const bulk = await submitBulk(gw, {
      jobs: [
        {
          id,
          type: "echo",
          payload: { message: "bulk" },
          traceparent: `00-${callerTrace}-00f067aa0ba902b7-01`,
        },
      ],
    });
    expect(bulk.status).toBe(202);
    const stored = await gw.jsm.streams.getMessage(StreamName.Jobs, {
      last_by_subj: "jobs.bulk.echo",
    });
    const job = stored
      ?.json<{ jobs: { id: string; traceparent?: string }[] }>()
      .jobs.find((entry) => entry.id === id);
    expect(job).toBeDefined();
    expect(job?.traceparent ?? "").not.toContain(callerTrace);
  });

  it("sends the jobs of a gathered message the stream refuses one by one, each stored once", async () => {
    const spans = new InMemorySpanExporter();
    await using gw = await gateway({
      spanProcessors: [new SimpleSpanProcessor({ exporter: spans })],
    });
    const { config } = await gw.jsm.streams.info(StreamName.Jobs);
    // One job (about 3.3 KB with its headers) fits; two or more in one message do not.
    await gw.jsm.streams.update(StreamName.Jobs, { max_msg_size: 5000 });
    // Bulks are tried first: the stream refuses them, but core subscribers see them go by.
    let bulksSeen = 0;
    const bulks = gw.nc.subscribe("jobs.bulk.echo", {
      callback: () => {
        bulksSeen++;
      },
    });
    try {
      const before = (await gw.jsm.streams.info(StreamName.Jobs)).state.last_seq;
      const bodies = Array.from({ length: 10 }, (_, n) => ({
        type: "echo",
        payload: { message: `${n}:${"x".repeat(3000)}` },
      }));
      const responses = await pipelinedPosts(gw.baseUrl, "/v1/jobs", bodies);

      expect(responses.map((r) => r.status)).toEqual(Array(10).fill(202));
      const { last_seq } = (await gw.jsm.streams.info(StreamName.Jobs)).state;
      const stored = [];
      for (let seq = before + 1; seq <= last_seq; seq++) {
        const msg = await gw.jsm.streams.getMessage(StreamName.Jobs, { seq });
        if (msg !== null) stored.push(msg.json<{ id: string }>().id);
      }
      expect(stored.sort()).toEqual(responses.map((r) => String(r.body.id)).sort());
      await gw.nc.flush();
      expect(bulksSeen).toBeGreaterThan(0);
      // Each job's span names the subject it was stored on; one sent again alone is a batch of one.
      const producers = spans.getFinishedSpans().filter((span) => span.kind === SpanKind.PRODUCER);
      expect(producers.map((span) => span.name)).toEqual(Array(10).fill("send jobs.submit.echo"));
      const batchSizes = producers.map((span) => span.attributes["messaging.batch.message_count"]);
      expect(batchSizes).toContain(1);
      for (const size of batchSizes) expect([1, undefined]).toContain(size);
    } finally {
      bulks.unsubscribe();
      await gw.jsm.streams.update(StreamName.Jobs, { max_msg_size: config.max_msg_size });
    }
  });

  it("answers 503 for every job JetStream refuses for a passing reason, gathered or not, and keeps serving", async () => {
    await using gw = await gateway();
    const { config, state } = await gw.jsm.streams.info(StreamName.Jobs);
    // A full stream that discards new messages refuses them (not for their size): it may have room
    // later, so each request is answered 503 with the id to retry with.
    await gw.jsm.streams.update(StreamName.Jobs, {
      ...config,
      max_msgs: Math.max(state.messages, 1),
      discard: DiscardPolicy.New,
    });
    try {
      if (state.messages === 0) await submit(gw, { type: "echo", payload: { message: "fill" } });
      const bodies = Array.from({ length: 10 }, (_, n) => ({
        type: "echo",
        payload: { message: `m${n}` },
      }));
      const responses = await pipelinedPosts(gw.baseUrl, "/v1/jobs", bodies);
      expect(responses.map((r) => r.status)).toEqual(Array(10).fill(503));
      expect(String(responses[0]?.body.message)).toMatch(/JetStream did not store the job/);
      // Each names the id its job was given, to retry with.
      const ids = responses.map((r) => r.body.id);
      for (const id of ids) expect(id).toMatch(/^[0-9a-f-]{36}$/);
      expect(new Set(ids).size).toBe(ids.length);
    } finally {
      await gw.jsm.streams.update(StreamName.Jobs, config);
    }
    const after = await submit(gw, { type: "echo", payload: { message: "after" } });
    expect(after.status).toBe(202);
  });

  it("answers 413 for every job over the stream's max_msg_size, gathered or not, and keeps serving", async () => {
    await using gw = await gateway();
    const { config } = await gw.jsm.streams.info(StreamName.Jobs);
    await gw.jsm.streams.update(StreamName.Jobs, { ...config, max_msg_size: 64 });
    try {
      const bodies = Array.from({ length: 10 }, (_, n) => ({
        type: "echo",
        payload: { message: `m${n}` },
      }));
      const gathered = await pipelinedPosts(gw.baseUrl, "/v1/jobs", bodies);
      const alone = await submit(gw, {
        id: "too-big-alone",
        type: "echo",
        payload: { message: "alone" },
      });
      // Sent again as it is, a job would be refused again: never a 503 that says to retry.
      for (const response of [...gathered, alone]) {
        expect(response.status).toBe(413);
        expect(response.body).toMatchObject({ error: "payload_too_large" });
        expect(String(response.body.message)).toMatch(/JOBS.*max_msg_size/);
      }
    } finally {
      await gw.jsm.streams.update(StreamName.Jobs, config);
    }
    expect((await submit(gw, { type: "echo", payload: { message: "after" } })).status).toBe(202);
  });

  it("answers 413 for a cancel whose reason makes it larger than the stream's max_msg_size", async () => {
    await using gw = await gateway();
    // No dispatcher runs here: the job is in the read model as the projector would write it.
    await jobsCollection(gw.db).insertOne({
      _id: "cancel-too-large",
      type: "echo",
      status: "queued",
      run: 1,
      attempt: 0,
      attempts: [],
      updatedAt: new Date().toISOString(),
    });
    const { config } = await gw.jsm.streams.info(StreamName.Jobs);
    await gw.jsm.streams.update(StreamName.Jobs, { ...config, max_msg_size: 1024 });
    try {
      const cancel = (reason?: string) =>
        request(`${gw.baseUrl}/v1/jobs/cancel-too-large/cancel`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify(reason === undefined ? {} : { reason }),
        });
      const long = await cancel("€".repeat(1000));
      expect(long.status).toBe(413);
      expect(long.body).toMatchObject({ error: "payload_too_large" });
      expect(String(long.body.message)).toMatch(/max_msg_size.*shorter reason/);
      expect((await cancel()).status).toBe(202);
    } finally {
      await gw.jsm.streams.update(StreamName.Jobs, config);
    }
  });

  it("publishes every submission on its own when gathering is turned off (GATEWAY_GATHER_SUBMISSIONS=false)", async () => {
    await using gw = await gateway({ gatherSubmissions: false });
    const before = (await gw.jsm.streams.info(StreamName.Jobs)).state.last_seq;
    const bodies = Array.from({ length: 10 }, (_, n) => ({
      type: "echo",
      payload: { message: `${n}` },
    }));
    const responses = await pipelinedPosts(gw.baseUrl, "/v1/jobs", bodies);
    expect(responses.map((r) => r.status)).toEqual(Array(10).fill(202));
    const { last_seq } = (await gw.jsm.streams.info(StreamName.Jobs)).state;
    expect(last_seq - before).toBe(10);
  });

  it("keeps a client-chosen id", async () => {
    await using gw = await gateway();
    const response = await submit(gw, { id: "my-job-1", type: "echo", payload: { message: "x" } });
    expect(response.status).toBe(202);
    expect(response.body.id).toBe("my-job-1");
  });

  it("stores a repeated Idempotency-Key once and answers the repeat with the first job's id", async () => {
    await using gw = await gateway();
    const key = `key-${String(Date.now())}`;
    const first = await submit(
      gw,
      { type: "echo", payload: { message: "a" } },
      { "Idempotency-Key": key },
    );
    const before = await jobsStreamCount(gw);
    const again = await submit(
      gw,
      { type: "echo", payload: { message: "a" } },
      { "Idempotency-Key": key },
    );

    expect(first.status).toBe(202);
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ id: first.body.id, status: "duplicate", duplicate: true });
    expect(again.body.traceId).toBe(first.body.traceId);
    expect(await jobsStreamCount(gw)).toBe(before);

    const stored = await gw.jsm.streams.getMessage(StreamName.Jobs, {
      last_by_subj: "jobs.submit.echo",
    });
    expect(stored!.header.get(Header.MsgId)).toBe(key);
    expect(stored!.json()).toMatchObject({ idempotencyKey: key });
  });

  it("deduplicates on the body's idempotencyKey as well", async () => {
    await using gw = await gateway();
    const body = {
      type: "echo",
      payload: { message: "b" },
      idempotencyKey: `body-${String(Date.now())}`,
    };
    const first = await submit(gw, body);
    const again = await submit(gw, body);
    expect(first.status).toBe(202);
    expect(again.status).toBe(200);
    expect(again.body.id).toBe(first.body.id);
  });

  it("answers a repeated key with the first job's id when a NATS producer stored it without the id header", async () => {
    await using gw = await gateway();
    const key = `cli-${String(Date.now())}`;
    // As the nats CLI publishes it: the envelope with its id, and the key as Nats-Msg-Id.
    await jetstream(gw.nc).publish(
      "jobs.submit.echo",
      JSON.stringify({ id: "first-from-cli", payload: { message: "a" } }),
      { msgID: key },
    );
    const again = await submit(
      gw,
      { type: "echo", payload: { message: "a" } },
      { "Idempotency-Key": key },
    );
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ id: "first-from-cli", duplicate: true });
    expect(again.headers.get("location")).toBe("/v1/jobs/first-from-cli");
  });

  it("answers a repeated key without an id when its first submission named an id no job can have", async () => {
    await using gw = await gateway();
    // A raw NATS publish the dispatcher refuses (its id is not a job id) still holds the key.
    for (const [n, firstId] of ["заказ-1", "a/b?c", "line\r\nbreak"].entries()) {
      const key = `bad-first-${String(Date.now())}-${String(n)}`;
      await jetstream(gw.nc).publish(
        "jobs.submit.echo",
        JSON.stringify({ id: firstId, payload: { message: "a" } }),
        { msgID: key },
      );
      const again = await submit(
        gw,
        { type: "echo", payload: { message: "a" } },
        { "Idempotency-Key": key },
      );
      expect(again.status, JSON.stringify(again.body)).toBe(200);
      expect(again.body).toMatchObject({ status: "duplicate", duplicate: true });
      expect(again.body.id).toBeUndefined();
      expect(again.headers.get("location")).toBeNull();
    }
  });

  it("answers an id that collides with another job's idempotency key with that job's id", async () => {
    await using gw = await gateway();
    const key = `order-${String(Date.now())}`;
    const payload = { message: "a" };
    const first = await submit(gw, { type: "echo", payload }, { "Idempotency-Key": key });
    // Ids and keys share one deduplication space: this id is the first job's key.
    const again = await submit(gw, { id: key, type: "echo", payload });
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ id: first.body.id, duplicate: true });
  });

  it("answers a duplicate whose first submission is gone without an id no job has", async () => {
    await using gw = await gateway();
    const key = `gone-${String(Date.now())}`;
    const first = await submit(
      gw,
      { type: "echo", payload: { message: "a" } },
      { "Idempotency-Key": key },
    );
    const stored = await gw.jsm.streams.getMessage(StreamName.Jobs, {
      last_by_subj: "jobs.submit.echo",
    });
    await gw.jsm.streams.deleteMessage(StreamName.Jobs, stored!.seq);
    const again = await submit(
      gw,
      { type: "echo", payload: { message: "a" } },
      { "Idempotency-Key": key },
    );
    expect(first.status).toBe(202);
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ status: "duplicate", duplicate: true });
    expect(again.body.id).toBeUndefined();
    expect(again.headers.get("location")).toBeNull();
  });

  it.each([
    [{ type: "echo", payload: { message: "x" }, priority: 12 }, "invalid_envelope", "priority"],
    [{ type: "Bad Type" }, "invalid_envelope", "type"],
    [{ type: "echo", payload: { message: "x" }, colour: "red" }, "invalid_envelope", "colour"],
    [{ type: "echo", payload: { message: 42 } }, "invalid_payload", "payload.message"],
    [
      { type: "echo", payload: { message: "x", delayMs: -1 } },
      "invalid_payload",
      "payload.delayMs",
    ],
    [[1, 2, 3], "invalid_envelope", "(root)"],
  ])("refuses %j with 400 %s naming %s, publishing nothing", async (body, error, field) => {
    await using gw = await gateway();
    const before = await jobsStreamCount(gw);
    const response = await submit(gw, body);
    expect(response.status).toBe(400);
    expect(response.body.error).toBe(error);
    expect(response.body.message).toEqual(expect.any(String));
    const issues = response.body.issues as { path: string; message: string }[];
    expect(issues.map((i) => i.path)).toContain(field);
    expect(await jobsStreamCount(gw)).toBe(before);
  });

  it.each([
    [
      "nested 5000 levels deep",
      `{"type":"echo","payload":${"[".repeat(5000)}${"]".repeat(5000)}}`,
      "payload",
    ],
    [
      "with a NUL in a key",
      JSON.stringify({ type: "echo", payload: { "a\u0000b": 1 } }),
      "payload.a\\u0000b",
    ],
  ])(
    "refuses a payload %s with 400 naming the field, publishing nothing",
    async (_what, body, field) => {
      await using gw = await gateway();
      const before = await jobsStreamCount(gw);
      const response = await fetch(`${gw.baseUrl}/v1/jobs`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body,
      });
      expect(response.status).toBe(400);
      const answer = (await response.json()) as { error: string; issues: { path: string }[] };
      expect(answer.error).toBe("invalid_payload");
      expect(answer.issues.map((i) => i.path)).toEqual([field]);
      expect(await jobsStreamCount(gw)).toBe(before);
    },
  );

  it("refuses a body that is not JSON with 400", async () => {
    await using gw = await gateway();
    const response = await fetch(`${gw.baseUrl}/v1/jobs`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "{ not json",
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ error: "invalid_json" });
  });

  it("reads the body as JSON even without a JSON content type", async () => {
    await using gw = await gateway();
    const response = await fetch(`${gw.baseUrl}/v1/jobs`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: JSON.stringify({ type: "echo", payload: { message: "curl -d" } }),
    });
    expect(response.status).toBe(202);
  });

  it("refuses a body over the limit with 413, publishing nothing", async () => {
    await using gw = await gateway({ maxBodyBytes: 1024 });
    const before = await jobsStreamCount(gw);
    const response = await submit(gw, { type: "echo", payload: { message: "x".repeat(2000) } });
    expect(response.status).toBe(413);
    expect(response.body.error).toBe("payload_too_large");
    expect(response.body.message).toContain("1024");
    expect(await jobsStreamCount(gw)).toBe(before);
  });

  it("closes the connection after refusing a chunked body it stopped reading, so the next request cannot hang on it", async () => {
    // Past the limit the rest of the body stays unread on the socket: a keep-alive client that
    // sent its next request there would wait until the socket was reset.
    await using gw = await gateway({ maxBodyBytes: 1024 });
    const { hostname, port } = new URL(gw.baseUrl);
    const socket = tcpConnect(Number(port), hostname);
    await once(socket, "connect");
    let received = "";
    socket.on("data", (chunk: Buffer) => (received += chunk.toString()));
    const ended = once(socket, "close");
    const chunk = "x".repeat(4096);
    socket.write(
      "POST /v1/jobs HTTP/1.1\r\nHost: gw\r\nTransfer-Encoding: chunked\r\n\r\n" +
        `${chunk.length.toString(16)}\r\n${chunk}\r\n`,
    );
    await waitUntil(() => received.includes("\r\n\r\n"), 5000);
    expect(received).toMatch(/^HTTP\/1\.1 413/);
    expect(received.toLowerCase()).toContain("connection: close");
    socket.write("GET /healthz HTTP/1.1\r\nHost: gw\r\n\r\n");
    const closed = await Promise.race([
      ended.then(() => true),
      new Promise<boolean>((resolve) => setTimeout(resolve, 3000, false)),
    ]);
    socket.destroy();
    expect(closed).toBe(true);
  });

  it("refuses with 413 a body under the limit whose stored envelope is over it, publishing nothing", async () => {
    // The dispatcher measures the envelope as stored, with its id and defaults filled in, so a
    // body just under the limit can make an envelope over it.
    await using gw = await gateway({ maxBodyBytes: 1024 });
    const before = await jobsStreamCount(gw);
    const bodyOf = (fields: string) => {
      const start = `{${fields}"type":"echo","payload":{"message":"`;
      return `${start}${"x".repeat(1020 - start.length - 3)}"}}`;
    };
    // Without an id the job may be gathered into a bulk; with one it is published alone.
    for (const body of [bodyOf(""), bodyOf(`"id":"${uniqueName("big")}",`)]) {
      expect(Buffer.byteLength(body)).toBe(1020);
      const response = await fetch(`${gw.baseUrl}/v1/jobs`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body,
      });
      const answer = (await response.json()) as { error: string; issues: { path: string }[] };
      expect(response.status, JSON.stringify(answer)).toBe(413);
      expect(answer.error).toBe("payload_too_large");
      expect(answer.issues).toEqual([expect.objectContaining({ path: "(root)" })]);
    }
    expect(await jobsStreamCount(gw)).toBe(before);
  });

  it("refuses a body in an encoding it cannot read with 415, and a body its encoding does not fit with 400", async () => {
    await using gw = await gateway();
    const body = JSON.stringify({ type: "echo", payload: { message: "hi" } });
    const post = (encoding: string) =>
      fetch(`${gw.baseUrl}/v1/jobs`, {
        method: "POST",
        headers: { "content-type": "application/json", "content-encoding": encoding },
        body,
      });

    // Names an object has of its own are codings like any other.
    for (const encoding of ["foo", "constructor", "__proto__", "toString"]) {
      const unknown = await post(encoding);
      expect(unknown.status, encoding).toBe(415);
      expect(await unknown.json()).toMatchObject({ error: "unsupported_media_type" });
    }
    const notGzip = await post("gzip");
    expect(notGzip.status).toBe(400);
    expect(await notGzip.json()).toMatchObject({ error: "bad_request" });
  });

  it("refuses a body declared in another charset than UTF-8 with 415, storing nothing", async () => {
    await using gw = await gateway();
    const before = await jobsStreamCount(gw);
    const latin1 = Buffer.from('{"type":"echo","payload":{"message":"caf\u00e9"}}', "latin1");
    const response = await fetch(`${gw.baseUrl}/v1/jobs`, {
      method: "POST",
      headers: { "content-type": "application/json; charset=iso-8859-1" },
      body: latin1,
    });
    expect(response.status).toBe(415);
    expect(await response.json()).toMatchObject({
      error: "unsupported_media_type",
      message: expect.stringContaining("iso-8859-1") as string,
    });
    expect(await jobsStreamCount(gw)).toBe(before);
    const utf8 = await fetch(`${gw.baseUrl}/v1/jobs`, {
      method: "POST",
      headers: { "content-type": "application/json; charset=UTF-8" },
      body: JSON.stringify({ type: "echo", payload: { message: "café" } }),
    });
    expect(utf8.status).toBe(202);
  });

  it("refuses a body that is not valid UTF-8 with 400 instead of reading its bytes as U+FFFD, storing nothing", async () => {
    // Read leniently, "caf\xe9" and "caf\xe8" both became "caf\uFFFD": two idempotency keys
    // collided, and the second job was answered as a duplicate of the first and never stored.
    await using gw = await gateway();
    const before = await jobsStreamCount(gw);
    for (const accent of [0xe9, 0xe8]) {
      const body = Buffer.concat([
        Buffer.from('{"type":"echo","idempotencyKey":"caf'),
        Buffer.from([accent]),
        Buffer.from('"}'),
      ]);
      const response = await fetch(`${gw.baseUrl}/v1/jobs`, { method: "POST", body });
      expect(response.status).toBe(400);
      expect(await response.json()).toMatchObject({
        error: "invalid_json",
        message: expect.stringContaining("UTF-8") as string,
      });
    }
    expect(await jobsStreamCount(gw)).toBe(before);
  });

  it("reads a body that is only a byte order mark as no body, as an empty one", async () => {
    await using gw = await gateway();
    // The cancel route's body is optional: an unknown job is 404 once the body was read.
    for (const body of ["", "\uFEFF"]) {
      const response = await fetch(`${gw.baseUrl}/v1/jobs/${uniqueName("nobody")}/cancel`, {
        method: "POST",
        body,
      });
      expect(response.status, JSON.stringify(body)).toBe(404);
    }
  });

  it("reads a payload key __proto__ as data, as the NATS intake does", async () => {
    await using gw = await gateway();
    await gw.registry.register({ type: "open.data" });
    const id = uniqueName("proto");
    const body = `{"id":"${id}","type":"open.data","payload":{"__proto__":{"polluted":true},"n":1}}`;
    const response = await fetch(`${gw.baseUrl}/v1/jobs`, { method: "POST", body });
    expect(response.status, await response.clone().text()).toBe(202);
    const stored = await gw.jsm.streams.getMessage(StreamName.Jobs, {
      last_by_subj: "jobs.submit.open.data",
    });
    expect(stored!.string()).toContain('"payload":{"__proto__":{"polluted":true},"n":1}');
    expect(({} as Record<string, unknown>)["polluted"]).toBeUndefined();
  });

  it("reads Content-Encoding case-insensitively, and x-gzip as gzip", async () => {
    await using gw = await gateway();
    const body = gzipSync(JSON.stringify({ type: "echo", payload: { message: "zipped" } }));
    for (const encoding of ["GZIP", "x-gzip", "Gzip"]) {
      const response = await fetch(`${gw.baseUrl}/v1/jobs`, {
        method: "POST",
        headers: { "content-type": "application/json", "content-encoding": encoding },
        body,
      });
      expect(response.status, encoding).toBe(202);
    }
  });

  it("refuses an integer JSON numbers cannot hold exactly, naming it, instead of storing it rounded", async () => {
    await using gw = await gateway();
    await gw.registry.register({ type: "big.numbers" });
    const before = await jobsStreamCount(gw);
    const post = (body: string, path = "/v1/jobs") =>
      rawPost(`${gw.baseUrl}${path}`, body, { "Content-Type": "application/json" });
    // A 64-bit id: JSON.parse alone reads it as 1234567890123456800.
    const single = await post('{"type":"big.numbers","payload":{"orderId":1234567890123456789}}');
    const bulk = await post(
      '{"jobs":[{"type":"big.numbers","payload":{"ok":1}},{"type":"big.numbers","payload":{"refs":[9007199254740993]}}]}',
      "/v1/jobs/bulk",
    );
    expect(single.status, single.text).toBe(400);
    const refused = JSON.parse(single.text) as { error: string; issues: ValidationIssue[] };
    expect(refused.error).toBe("invalid_payload");
    expect(refused.issues.map((i) => i.path)).toEqual(["payload.orderId"]);
    expect(refused.issues[0]?.message).toMatch(/1234567890123456789.*send it as a string/);
    expect(bulk.status, bulk.text).toBe(400);
    expect(JSON.parse(bulk.text)).toMatchObject({ issues: [{ path: "jobs[1].payload.refs.0" }] });
    expect(await jobsStreamCount(gw)).toBe(before);
    // What JSON numbers hold exactly is stored as sent: 2^53, a large float, a digit-rich string.
    const exact = await post(
      '{"type":"big.numbers","payload":{"a":9007199254740992,"b":1e20,"c":"12345678901234567890","d":-9007199254740991}}',
    );
    expect(exact.status, exact.text).toBe(202);
  });

  it("refuses a type no worker registered with 422 naming type", async () => {
    await using gw = await gateway();
    const response = await submit(gw, { type: "never.registered", payload: {} });
    expect(response.status).toBe(422);
    expect(response.body.error).toBe("unknown_type");
    expect(response.body.issues).toEqual([expect.objectContaining({ path: "type" })]);
  });

  it("refuses an empty or repeated Idempotency-Key header, naming it, instead of dropping or joining it", async () => {
    await using gw = await gateway();
    const before = await jobsStreamCount(gw);
    const body = JSON.stringify({ type: "echo", payload: { message: "a" } });
    // node:http sends an array as one header line per value (fetch would join them itself).
    for (const key of ["", ["a", "b"]]) {
      const { status, text } = await rawPost(`${gw.baseUrl}/v1/jobs`, body, {
        "Idempotency-Key": key,
      });
      const answer = JSON.parse(text) as { error: string; issues: { path: string }[] };
      expect(status, text).toBe(400);
      expect(answer.error).toBe("invalid_envelope");
      expect(answer.issues.map((i) => i.path)).toEqual(["Idempotency-Key"]);
    }
    expect(await jobsStreamCount(gw)).toBe(before);
  });

  it("refuses a body key that contradicts the Idempotency-Key header", async () => {
    await using gw = await gateway();
    const response = await submit(
      gw,
      { type: "echo", payload: { message: "x" }, idempotencyKey: "a" },
      { "Idempotency-Key": "b" },
    );
    expect(response.status).toBe(400);
    expect(response.body.issues).toEqual([expect.objectContaining({ path: "idempotencyKey" })]);
  });

  it("refuses an idempotency key that cannot be a message id with 400 naming it, and keeps serving", async () => {
    await using gw = await gateway();
    for (const idempotencyKey of ["a\nb", " padded", "   "]) {
      const response = await submit(gw, {
        type: "echo",
        payload: { message: "x" },
        idempotencyKey,
      });
      expect(response.status, idempotencyKey).toBe(400);
      expect(response.body.issues).toEqual([expect.objectContaining({ path: "idempotencyKey" })]);
    }
    expect((await submit(gw, { type: "echo", payload: { message: "x" } })).status).toBe(202);
  });

  it("accepts a type registered after the gateway started", async () => {
    await using gw = await gateway();
    expect((await submit(gw, { type: "late.type" })).status).toBe(422);
    await gw.registry.register({ type: "late.type" });
    expect((await submit(gw, { type: "late.type", payload: [1, 2] })).status).toBe(202);
  });
});

describe("POST /v1/jobs/bulk", () => {
  it("answers 202 once every job is stored, one bulk message per type, ids in order, on the request's trace", async () => {
    await using gw = await gateway();
    await gw.registry.register({ type: "bulk.other" });
    const given = `bulk-given-${String(Date.now())}`;
    const before = await jobsStreamCount(gw);
    const response = await submitBulk(gw, {
      jobs: [
        { id: given, type: "echo", payload: { message: "a" } },
        { type: "bulk.other", payload: 2 },
        { type: "echo", payload: { message: "c" }, priority: 9 },
      ],
    });

    expect(response.status).toBe(202);
    const { jobs, traceId } = response.body as {
      jobs: { id: string; duplicate: boolean }[];
      traceId: string;
    };
    expect(jobs.map((j) => j.duplicate)).toEqual([false, false, false]);
    expect(jobs[0]?.id).toBe(given);
    expect(traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(await jobsStreamCount(gw)).toBe(before + 2);

    const echo = await gw.jsm.streams.getMessage(StreamName.Jobs, {
      last_by_subj: "jobs.bulk.echo",
    });
    expect(echo?.json()).toEqual({
      jobs: [
        { id: given, type: "echo", payload: { message: "a" }, priority: 5 },
        { id: jobs[2]?.id, type: "echo", payload: { message: "c" }, priority: 9 },
      ],
    });
    expect(echo?.header.get(Header.Source)).toBe("rest");
    expect(echo?.header.get(Header.TraceParent)).toMatch(
      new RegExp(`^00-${traceId}-[0-9a-f]{16}-01$`),
    );
    const other = await gw.jsm.streams.getMessage(StreamName.Jobs, {
      last_by_subj: "jobs.bulk.bulk.other",
    });
    expect(other?.json()).toEqual({
      jobs: [{ id: jobs[1]?.id, type: "bulk.other", payload: 2, priority: 5 }],
    });

    // The same jobs again, with their ids: stored once.
    const again = await submitBulk(gw, {
      jobs: [
        { id: given, type: "echo", payload: { message: "a" } },
        { id: jobs[2]?.id, type: "echo", payload: { message: "c" }, priority: 9 },
      ],
    });
    expect(again.status).toBe(202);
    expect(again.body["jobs"]).toEqual([
      { id: given, duplicate: true },
      { id: jobs[2]?.id, duplicate: true },
    ]);
    expect(await jobsStreamCount(gw)).toBe(before + 2);
  });

  it("submits nothing when any job is refused, naming each refused job by its place", async () => {
    await using gw = await gateway();
    const before = await jobsStreamCount(gw);
    const cases: {
      body: unknown;
      headers?: Record<string, string>;
      status: number;
      paths: string[];
    }[] = [
      {
        body: {
          jobs: [
            { type: "echo", payload: { message: "ok" } },
            { type: "echo", payload: { message: 7 } },
            { type: "echo", priority: 12 },
          ],
        },
        status: 400,
        paths: ["jobs[1].payload.message", "jobs[2].priority"],
      },
      {
        body: { jobs: [{ type: "nope" }, { type: "echo", payload: { message: "ok" } }] },
        status: 422,
        paths: ["jobs[0].type"],
      },
      {
        body: { jobs: [{ type: "echo", payload: { message: "k" }, idempotencyKey: "k" }] },
        status: 400,
        paths: ["jobs[0].idempotencyKey"],
      },
      {
        body: {
          jobs: [
            { id: "twice", type: "echo", payload: { message: "a" } },
            { id: "twice", type: "echo", payload: { message: "b" } },
          ],
        },
        status: 400,
        paths: ["jobs[1].id"],
      },
      { body: { jobs: [] }, status: 400, paths: ["jobs"] },
      { body: [{ type: "echo" }], status: 400, paths: ["(root)"] },
      {
        body: { jobs: [{ type: "echo", payload: { message: "h" } }] },
        headers: { "Idempotency-Key": "k" },
        status: 400,
        paths: ["Idempotency-Key"],
      },
    ];
    for (const c of cases) {
      const response = await submitBulk(gw, c.body, c.headers);
      const label = JSON.stringify(c.body);
      expect(response.status, label).toBe(c.status);
      const paths = (response.body["issues"] as { path: string }[]).map((i) => i.path);
      expect(paths, label).toEqual(expect.arrayContaining(c.paths));
    }
    const refused = await submitBulk(gw, {
      jobs: [{ type: "echo", payload: { message: 1 } }, { type: "echo" }],
    });
    expect(refused.body["message"]).toMatch(/^2 of 2 jobs refused, none submitted; jobs\[0\]: /);
    expect(await jobsStreamCount(gw)).toBe(before);
  });

  it("refuses a body over the bulk limit, or a job over the submission limit, with 413", async () => {
    await using gw = await gateway({ maxBodyBytes: 1024, maxBulkBodyBytes: 8 * 1024 });
    const before = await jobsStreamCount(gw);
    const big = { type: "echo", payload: { message: "x".repeat(2000) } };
    const oneTooLarge = await submitBulk(gw, {
      jobs: [{ type: "echo", payload: { message: "ok" } }, big],
    });
    expect(oneTooLarge.status).toBe(413);
    expect(oneTooLarge.body["issues"]).toEqual([expect.objectContaining({ path: "jobs[1]" })]);
    const bodyTooLarge = await submitBulk(gw, { jobs: Array.from({ length: 5 }, () => big) });
    expect(bodyTooLarge.status).toBe(413);
    expect(await jobsStreamCount(gw)).toBe(before);
  });

  it("answers 413 naming each job's id and whether it is stored when a job is over the stream's max_msg_size", async () => {
    const spans = new InMemorySpanExporter();
    await using gw = await gateway({
      spanProcessors: [new SimpleSpanProcessor({ exporter: spans })],
    });
    await gw.registry.register({ type: "bulk.big" });
    const before = await gw.jsm.streams.info(StreamName.Jobs);
    // The echo job's message fits; the other type's message is over the stream's limit.
    await gw.jsm.streams.update(StreamName.Jobs, { ...before.config, max_msg_size: 600 });
    try {
      const response = await submitBulk(gw, {
        jobs: [
          { id: "part-small", type: "echo", payload: { message: "s" } },
          { id: "part-big", type: "bulk.big", payload: "x".repeat(1000) },
        ],
      });
      expect(response.status).toBe(413);
      expect(response.body).toMatchObject({
        error: "payload_too_large",
        jobs: [
          { id: "part-small", stored: true },
          { id: "part-big", stored: false },
        ],
      });
      expect(String(response.body.message)).toMatch(/JOBS.*max_msg_size/);
      const stored = await gw.jsm.streams.getMessage(StreamName.Jobs, {
        last_by_subj: "jobs.bulk.echo",
      });
      expect(JSON.stringify(stored?.json())).toContain("part-small");
      expect(String(response.body.message)).toMatch(/; the others are stored$/);
      // A 4xx does not fail the request's span, as for a single job.
      const request = spans.getFinishedSpans().find((s) => s.name === "POST /v1/jobs/bulk");
      expect(request?.status.code).not.toBe(SpanStatusCode.ERROR);
      expect(request?.attributes["http.response.status_code"]).toBe(413);
      // None stored: the message does not say the others are.
      const none = await submitBulk(gw, {
        jobs: [{ type: "bulk.big", payload: "y".repeat(1000) }],
      });
      expect(none.status).toBe(413);
      expect(String(none.body.message)).not.toMatch(/the others are stored/);
    } finally {
      await gw.jsm.streams.update(StreamName.Jobs, before.config);
    }
  });

  it("sends the jobs of a bulk message over the stream's max_msg_size one by one, each stored once", async () => {
    await using gw = await gateway();
    const before = await gw.jsm.streams.info(StreamName.Jobs);
    // One job (about 3.3 KB with its headers) fits; two or more in one message do not.
    await gw.jsm.streams.update(StreamName.Jobs, { ...before.config, max_msg_size: 5000 });
    try {
      const jobs = Array.from({ length: 5 }, (_, n) => ({
        id: `bulk-one-by-one-${n}`,
        type: "echo",
        payload: { message: `${n}:${"x".repeat(3000)}` },
      }));
      const response = await submitBulk(gw, { jobs });
      expect(response.status).toBe(202);
      const { last_seq } = (await gw.jsm.streams.info(StreamName.Jobs)).state;
      const stored: string[] = [];
      for (let seq = before.state.last_seq + 1; seq <= last_seq; seq++) {
        const msg = await gw.jsm.streams.getMessage(StreamName.Jobs, { seq });
        if (msg !== null)
          stored.push(...msg.json<{ jobs: { id: string }[] }>().jobs.map((j) => j.id));
      }
      expect(stored.sort()).toEqual(jobs.map((job) => job.id).sort());
    } finally {
      await gw.jsm.streams.update(StreamName.Jobs, before.config);
    }
  });
});

describe("a gateway whose registry has not seen a type registered a moment ago", () => {
  it("accepts a submission of it, single or in a bulk, instead of answering 422 unknown_type", async () => {
    await using gw = await gateway({ gatherSubmissions: false });
    // Its watch stopped: what is registered from now on reaches it only if it asks the bucket.
    await gw.registry.close();
    const worker = await JobTypeRegistry.open(gw.nc);
    try {
      await worker.register({ type: "report.fresh" });
      expect((await submit(gw, { type: "report.fresh" })).status).toBe(202);
      expect((await submitBulk(gw, { jobs: [{ type: "report.fresh" }] })).status).toBe(202);
      // A type nobody registered is still refused.
      expect((await submit(gw, { type: "report.never" })).body).toMatchObject({
        error: "unknown_type",
      });
    } finally {
      await worker.close();
    }
  });
});

/** Resolves once `done` holds, checking every 10 ms, or rejects after `timeoutMs`. */
async function waitUntil(done: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`not done within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
