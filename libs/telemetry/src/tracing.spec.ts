import { headers as natsHeaders } from "@nats-io/nats-core";
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

  it("starts a new trace when a message carries no context", async () => {
    const { tracing } = tracingWithMemory();
    const traceId = await tracing.consume(undefined, { subject: "jobs.submit.echo" }, (ctx) =>
      Promise.resolve(tracing.traceIdOf(ctx)),
    );
    expect(traceId).toMatch(/^[0-9a-f]{32}$/);
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

  it("marks the span as failed and rethrows when the work throws", async () => {
    const { tracing, exporter } = tracingWithMemory();
    await expect(
      tracing.consume(undefined, { subject: "work.flaky" }, () =>
        Promise.reject(new Error("boom")),
      ),
    ).rejects.toThrow("boom");
    expect(exporter.getFinishedSpans()[0]!.status.message).toBe("boom");
  });
});

describe("Tracing without an exporter", () => {
  const tracing = Tracing.create({ serviceName: "test" });

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
