import { headers as natsHeaders } from "@nats-io/nats-core";
import { SpanKind, SpanStatusCode } from "@opentelemetry/api";
import { InMemorySpanExporter, SimpleSpanProcessor } from "@opentelemetry/sdk-trace";
import { describe, expect, it } from "vitest";

import { Tracing } from "./tracing.ts";

function tracingWithMemory() {
  const exporter = new InMemorySpanExporter();
  const tracing = Tracing.create({
    serviceName: "test",
    spanProcessors: [new SimpleSpanProcessor({ exporter })],
  });
  return { tracing, exporter };
}

describe("Tracing", () => {
  it("carries one trace from a producer to a consumer through NATS headers", async () => {
    const { tracing, exporter } = tracingWithMemory();
    const headers = natsHeaders();
    const producedTraceId = await tracing.produce(
      undefined,
      { subject: "jobs.submit.echo" },
      (ctx) => {
        tracing.inject(ctx, headers);
        return Promise.resolve(tracing.traceIdOf(ctx));
      },
    );
    expect(headers.get("traceparent")).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);

    const consumedTraceId = await tracing.consume(
      headers,
      { subject: "work.echo", jobId: "j1" },
      (ctx) => Promise.resolve(tracing.traceIdOf(ctx)),
    );
    expect(consumedTraceId).toBe(producedTraceId);

    const spans = exporter.getFinishedSpans();
    expect(spans.map((s) => s.name)).toEqual(["send jobs.submit.echo", "process work.echo"]);
    expect(spans[1]!.parentSpanContext?.spanId).toBe(spans[0]!.spanContext().spanId);
    expect(spans[1]!.attributes["conveyor.job.id"]).toBe("j1");
  });

  it("stops within its timeout when the collector does not answer, reporting the spans it could not send instead of failing", async () => {
    // Nothing listens on port 9: each export is refused, and the exporter retries for 10 s.
    const problems: string[] = [];
    const tracing = Tracing.create({
      serviceName: "test",
      otlpEndpoint: "http://127.0.0.1:9",
      onExportProblem: (message) => problems.push(message),
    });
    await tracing.internal(tracing.extract(undefined), "work", {}, () => Promise.resolve());
    const started = Date.now();
    await expect(tracing.shutdown({ timeoutMs: 300 })).resolves.toBeUndefined();
    expect(Date.now() - started).toBeLessThan(5000);
    expect(problems.join("\n")).toContain("shutdown");
  });

  it("reads a traceparent header whatever its case, as a Go publisher's canonical Traceparent", async () => {
    const { tracing } = tracingWithMemory();
    const headers = natsHeaders();
    headers.set("Traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
    const traceId = await tracing.consume(headers, { subject: "jobs.submit.echo" }, (ctx) =>
      Promise.resolve(tracing.traceIdOf(ctx)),
    );
    expect(traceId).toBe("4bf92f3577b34da6a3ce929d0e0e4736");
  });

  it("starts the trace it is given when a message carries none, and continues a carried one", async () => {
    const { tracing } = tracingWithMemory();
    const root = "0123456789abcdef0123456789abcdef";
    let asked = 0;
    const traceIdOf = (headers: ReturnType<typeof natsHeaders> | undefined, given: string) =>
      tracing.consume(
        headers,
        { subject: "jobs.submit.echo" },
        (ctx) => Promise.resolve(tracing.traceIdOf(ctx)),
        () => {
          asked++;
          return given;
        },
      );
    expect(await traceIdOf(undefined, root)).toBe(root);
    expect(await traceIdOf(undefined, root)).toBe(root);
    const carried = natsHeaders();
    carried.set("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
    expect(await traceIdOf(carried, root)).toBe("4bf92f3577b34da6a3ce929d0e0e4736");
    // Asked only for a root: a carried trace costs nothing.
    expect(asked).toBe(2);
    // Not a trace id: a random one, as without.
    expect(await traceIdOf(undefined, "0".repeat(32))).toMatch(/^(?!0{32})[0-9a-f]{32}$/);
  });

  it("marks a span failed for an outcome returned rather than thrown, such as a dead-lettered job", async () => {
    const { tracing, exporter } = tracingWithMemory();
    await tracing.consume(undefined, { subject: "work.echo" }, (ctx) => {
      tracing.markFailed(ctx, "dead: invalid payload");
      return Promise.resolve();
    });
    const [span] = exporter.getFinishedSpans();
    expect(span?.status).toEqual({ code: SpanStatusCode.ERROR, message: "dead: invalid payload" });
  });

  it("leaves a server span's status unset for a client's mistake (4xx), and marks a 5xx failed", async () => {
    const { tracing, exporter } = tracingWithMemory();
    const answer = (status: number) =>
      tracing
        .server("POST /v1/jobs", {}, () =>
          Promise.reject(Object.assign(new Error(`status ${String(status)}`), { status })),
        )
        .catch(() => undefined);
    await answer(422);
    await answer(503);
    const [clientError, serverError] = exporter.getFinishedSpans();
    expect(clientError?.status.code).toBe(SpanStatusCode.UNSET);
    expect(serverError?.status.code).toBe(SpanStatusCode.ERROR);
  });

  it("starts a new trace when a message carries no context", async () => {
    const { tracing } = tracingWithMemory();
    const traceId = await tracing.consume(undefined, { subject: "jobs.submit.echo" }, (ctx) =>
      Promise.resolve(tracing.traceIdOf(ctx)),
    );
    expect(traceId).toMatch(/^[0-9a-f]{32}$/);
  });

  it("tells a context of a sampled trace from one its producer did not record, or one with no trace", () => {
    const { tracing } = tracingWithMemory();
    const carrying = (flags: string) => {
      const h = natsHeaders();
      h.set("traceparent", `00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-${flags}`);
      return tracing.extract(h);
    };
    expect(tracing.isSampled(carrying("01"))).toBe(true);
    expect(tracing.isSampled(carrying("00"))).toBe(false);
    expect(tracing.isSampled(tracing.extract(undefined))).toBe(false);
  });

  it("renames a PRODUCER span after the subject its message left on, with the batch's size", async () => {
    const { tracing, exporter } = tracingWithMemory();
    await tracing.produce(undefined, { subject: "jobs.submit.echo", jobId: "j1" }, (ctx) => {
      tracing.sentTo(ctx, "jobs.bulk.echo", 12);
      return Promise.resolve();
    });
    const [span] = exporter.getFinishedSpans();
    expect(span!.name).toBe("send jobs.bulk.echo");
    expect(span!.attributes["messaging.destination.name"]).toBe("jobs.bulk.echo");
    expect(span!.attributes["messaging.batch.message_count"]).toBe(12);
    expect(span!.attributes["conveyor.job.id"]).toBe("j1");
  });

  it("links a PRODUCER span to the spans of other sampled traces it was caused by, and to no other", async () => {
    const { tracing, exporter } = tracingWithMemory();
    const job = natsHeaders();
    job.set("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
    const request = natsHeaders();
    request.set("traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");

    const unsampled = natsHeaders();
    unsampled.set("traceparent", "00-2cf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00");

    await tracing.produce(
      tracing.extract(job),
      { subject: "events.j1.cancelled", jobId: "j1" },
      () => Promise.resolve(),
      // A trace its producer did not record is in no backend: a link to it would lead nowhere.
      [tracing.extract(request), tracing.extract(undefined), tracing.extract(unsampled)],
    );

    const [span] = exporter.getFinishedSpans();
    expect(span!.spanContext().traceId).toBe("4bf92f3577b34da6a3ce929d0e0e4736");
    expect(span!.links.map((link) => link.context)).toEqual([
      expect.objectContaining({
        traceId: "0af7651916cd43dd8448eb211c80319c",
        spanId: "b7ad6b7169203331",
      }),
    ]);
  });

  it("gives every message of a batch a CONSUMER span in its own trace, ending with the batch", async () => {
    const { tracing, exporter } = tracingWithMemory();
    const ids = ["a", "b", "c"];
    const messages = await Promise.all(
      ids.map((id) =>
        tracing.produce(undefined, { subject: `events.${id}.queued`, jobId: id }, (ctx) => {
          const headers = natsHeaders();
          tracing.inject(ctx, headers);
          return Promise.resolve({ id, headers, traceId: tracing.traceIdOf(ctx) });
        }),
      ),
    );
    const producers = exporter.getFinishedSpans();
    exporter.reset();

    const batchTrace = await tracing.consumeBatch(
      messages,
      (msg) => msg.headers,
      (msg) => ({ subject: `events.${msg.id}.queued`, jobId: msg.id }),
      { subject: "events.>" },
      (ctx) => Promise.resolve(tracing.traceIdOf(ctx)),
    );
    // The batch's own work continues the first message's trace, as a single message's would.
    expect(batchTrace).toBe(messages[0]!.traceId);
    const consumers = exporter.getFinishedSpans();
    for (const [i, msg] of messages.entries()) {
      const inTrace = consumers.filter((span) => span.spanContext().traceId === msg.traceId);
      expect(inTrace).toHaveLength(1);
      expect(inTrace[0]!.parentSpanContext?.spanId).toBe(producers[i]!.spanContext().spanId);
      expect(inTrace[0]!.kind).toBe(SpanKind.CONSUMER);
      expect(inTrace[0]!.attributes["messaging.batch.message_count"]).toBe(3);
    }
    expect(consumers.map((span) => span.attributes["conveyor.job.id"])).toEqual(
      expect.arrayContaining(["b", "c"]),
    );
  });

  it("marks every message's span as failed when the batch's work throws", async () => {
    const { tracing, exporter } = tracingWithMemory();
    const messages = [natsHeaders(), natsHeaders()];
    await expect(
      tracing.consumeBatch(
        messages,
        (headers) => headers,
        () => ({ subject: "events.x.queued" }),
        { subject: "events.>" },
        () => Promise.reject(new Error("store down")),
      ),
    ).rejects.toThrow("store down");
    const spans = exporter.getFinishedSpans();
    expect(spans).toHaveLength(2);
    expect(spans.map((span) => span.status.message)).toEqual(["store down", "store down"]);
  });

  it("ends the spans it started when reading a later message of the batch throws", async () => {
    const { tracing, exporter } = tracingWithMemory();
    const messages = [natsHeaders(), natsHeaders(), natsHeaders(), natsHeaders()];
    let read = 0;
    let worked = false;
    await expect(
      tracing.consumeBatch(
        messages,
        (headers) => headers,
        () => {
          if (++read === 2) throw new Error("unreadable message");
          return { subject: "events.x.queued" };
        },
        { subject: "events.>" },
        () => Promise.resolve((worked = true)),
      ),
    ).rejects.toThrow("unreadable message");
    expect(worked).toBe(false);
    const spans = exporter.getFinishedSpans();
    expect(spans).toHaveLength(1);
    expect(spans[0]!.status.message).toBe("unreadable message");
  });

  it("marks the span as failed and rethrows when the work throws", async () => {
    const { tracing, exporter } = tracingWithMemory();
    await expect(
      tracing.consume(undefined, { subject: "work.flaky" }, () =>
        Promise.reject(new Error("boom")),
      ),
    ).rejects.toThrow("boom");
    expect(exporter.getFinishedSpans()[0]!.status.message).toBe("boom");
  });

  it("rethrows what the work threw even when it cannot be turned into text", async () => {
    const { tracing, exporter } = tracingWithMemory();
    const bare: unknown = Object.create(null);
    const thrown = await tracing
      .consume(undefined, { subject: "work.odd" }, () => Promise.reject(bare as Error))
      .catch((err: unknown) => err);
    expect(thrown).toBe(bare);
    expect(exporter.getFinishedSpans()[0]!.status.message).toBe("[object Object]");
  });
});

describe("Tracing without an exporter", () => {
  const tracing = Tracing.create({ serviceName: "test" });

  it("reads only the first message of a batch, whose trace the batch's work continues", async () => {
    const first = natsHeaders();
    const traceId = await tracing.produce(undefined, { subject: "events.a.queued" }, (ctx) => {
      tracing.inject(ctx, first);
      return Promise.resolve(tracing.traceIdOf(ctx));
    });
    const headersRead: number[] = [];
    let attrsRead = 0;
    const batch = [first, natsHeaders(), natsHeaders()];
    const seen = await tracing.consumeBatch(
      batch,
      (headers) => {
        headersRead.push(batch.indexOf(headers));
        return headers;
      },
      () => {
        attrsRead++;
        return { subject: "events.x.queued" };
      },
      { subject: "events.>" },
      (ctx) => Promise.resolve(tracing.traceIdOf(ctx)),
    );
    expect(seen).toBe(traceId);
    expect(headersRead).toEqual([0]);
    expect(attrsRead).toBe(0);
  });

  it("still carries one trace through headers, with a new span id at each step", async () => {
    const sent = natsHeaders();
    const producedTraceId = await tracing.produce(
      undefined,
      { subject: "jobs.submit.echo" },
      (ctx) => {
        tracing.inject(ctx, sent);
        return Promise.resolve(tracing.traceIdOf(ctx));
      },
    );
    expect(producedTraceId).toMatch(/^[0-9a-f]{32}$/);
    expect(sent.get("traceparent")).toBe(
      `00-${producedTraceId}-${sent.get("traceparent").split("-")[2]}-01`,
    );

    const forwarded = natsHeaders();
    const consumedTraceId = await tracing.consume(sent, { subject: "jobs.submit.echo" }, (ctx) =>
      tracing.produce(ctx, { subject: "work.echo" }, (inner) => {
        tracing.inject(inner, forwarded);
        return Promise.resolve(tracing.traceIdOf(ctx));
      }),
    );
    expect(consumedTraceId).toBe(producedTraceId);
    const [, traceId, spanId, flags] = forwarded.get("traceparent").split("-");
    expect(traceId).toBe(producedTraceId);
    expect(spanId).not.toBe(sent.get("traceparent").split("-")[2]);
    expect(flags).toBe("01");
  });

  it("keeps a producer's decision not to sample its trace", async () => {
    const unsampled = natsHeaders();
    unsampled.set("traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00");
    const forwarded = natsHeaders();
    await tracing.consume(unsampled, { subject: "jobs.submit.echo" }, (ctx) =>
      tracing.produce(ctx, { subject: "work.echo" }, (inner) => {
        tracing.inject(inner, forwarded);
        return Promise.resolve();
      }),
    );
    const [, traceId, , flags] = forwarded.get("traceparent").split("-");
    expect(traceId).toBe("0af7651916cd43dd8448eb211c80319c");
    expect(flags).toBe("00");
  });

  it("continues the trace of an HTTP request that carries a W3C traceparent, as OpenTelemetry's HTTP servers do", async () => {
    const { tracing, exporter } = tracingWithMemory();
    const caller = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
    const traceId = await tracing.server(
      "POST /v1/jobs",
      {},
      (ctx) => Promise.resolve(tracing.traceIdOf(ctx)),
      { traceparent: caller },
    );
    expect(traceId).toBe("0af7651916cd43dd8448eb211c80319c");
    const [span] = exporter.getFinishedSpans();
    expect(span?.parentSpanContext?.spanId).toBe("b7ad6b7169203331");
    expect(span?.kind).toBe(SpanKind.SERVER);

    // One that is not a valid traceparent, or sent twice, starts a trace of its own.
    for (const traceparent of ["not-a-traceparent", [caller, caller]]) {
      const own = await tracing.server(
        "POST /v1/jobs",
        {},
        (ctx) => Promise.resolve(tracing.traceIdOf(ctx)),
        { traceparent },
      );
      expect(own).toMatch(/^[0-9a-f]{32}$/);
      expect(own).not.toBe("0af7651916cd43dd8448eb211c80319c");
    }
  });

  it("records the HTTP status a request was answered with, as the server maps it", async () => {
    const { tracing, exporter } = tracingWithMemory();
    // The server's own mapping of what it answered and of what was thrown.
    const statusOf = (thrown: { error: unknown } | undefined) =>
      thrown === undefined ? 202 : ((thrown.error as { answered?: number }).answered ?? 500);
    await tracing.server("POST /v1/jobs", {}, () => Promise.resolve(), undefined, statusOf);
    const notFound = Object.assign(new Error("no such job"), { answered: 404 });
    // A library's error whose `status` field is no HTTP answer (a JetStream API code) is what the
    // server's mapping says: here a 500, which marks the span failed.
    const unmapped = Object.assign(new Error("bug"), { status: 400 });
    for (const error of [notFound, unmapped]) {
      await expect(
        tracing.server("GET /v1/jobs/:id", {}, () => Promise.reject(error), undefined, statusOf),
      ).rejects.toBe(error);
    }
    const spans = exporter.getFinishedSpans();
    expect(spans.map((span) => span.attributes["http.response.status_code"])).toEqual([
      202, 404, 500,
    ]);
    expect(spans.map((span) => span.status.code)).toEqual([
      SpanStatusCode.OK,
      SpanStatusCode.UNSET,
      SpanStatusCode.ERROR,
    ]);
  });

  it("starts a new trace for each root and rethrows what the work throws", async () => {
    const first = await tracing.server("GET /", {}, (ctx) =>
      Promise.resolve(tracing.traceIdOf(ctx)),
    );
    const second = await tracing.server("GET /", {}, (ctx) =>
      Promise.resolve(tracing.traceIdOf(ctx)),
    );
    expect(first).toMatch(/^[0-9a-f]{32}$/);
    expect(second).not.toBe(first);
    await expect(
      tracing.consume(undefined, { subject: "work.flaky" }, () =>
        Promise.reject(new Error("boom")),
      ),
    ).rejects.toThrow("boom");
  });
});

describe("the spans' resource", () => {
  it("names the service and its instance, with what OTEL_RESOURCE_ATTRIBUTES adds", async () => {
    const saved = process.env.OTEL_RESOURCE_ATTRIBUTES;
    process.env.OTEL_RESOURCE_ATTRIBUTES = "k8s.pod.name=dispatcher-7f9c,service.name=not-this";
    try {
      const resourceOf = async (tracing: Tracing, exporter: InMemorySpanExporter) => {
        await tracing.produce(undefined, { subject: "work.echo" }, () => Promise.resolve());
        return exporter.getFinishedSpans()[0]!.resource.attributes;
      };
      const one = tracingWithMemory();
      const other = tracingWithMemory();
      const first = await resourceOf(one.tracing, one.exporter);
      const second = await resourceOf(other.tracing, other.exporter);

      expect(first).toMatchObject({ "service.name": "test", "k8s.pod.name": "dispatcher-7f9c" });
      expect(first["service.instance.id"]).toMatch(/^[0-9a-f-]{36}$/);
      // One id per process, whatever creates a Tracing in it.
      expect(second["service.instance.id"]).toBe(first["service.instance.id"]);
    } finally {
      if (saved === undefined) delete process.env.OTEL_RESOURCE_ATTRIBUTES;
      else process.env.OTEL_RESOURCE_ATTRIBUTES = saved;
    }
  });
});
