import { headers as natsHeaders } from "@nats-io/nats-core";
import {
  AlwaysOffSampler,
  InMemorySpanExporter,
  ParentBasedSampler,
  SamplingDecision,
  SimpleSpanProcessor,
  TraceIdRatioBasedSampler,
} from "@opentelemetry/sdk-trace";
import type { Sampler } from "@opentelemetry/sdk-trace";
import { describe, expect, it } from "vitest";

import { Tracing } from "./tracing.ts";

/** A Tracing that records into memory (as one exporting over OTLP would). */
function recording(sampler?: Sampler) {
  const exporter = new InMemorySpanExporter();
  const tracing = Tracing.create({
    serviceName: "test",
    sampler,
    spanProcessors: [new SimpleSpanProcessor({ exporter })],
  });
  return { tracing, exporter };
}

/** Starts a trace in `producer` and returns the headers its message would carry. */
async function produced(producer: Tracing) {
  const headers = natsHeaders();
  await producer.produce(undefined, { subject: "jobs.submit.echo" }, (ctx) => {
    producer.inject(ctx, headers);
    return Promise.resolve();
  });
  return headers;
}

async function consumed(consumer: Tracing, headers: ReturnType<typeof natsHeaders>) {
  await consumer.consume(headers, { subject: "work.echo" }, () => Promise.resolve());
}

describe("sampling", () => {
  it("decides where a trace starts, and the services after follow the sampled flag", async () => {
    const producer = recording(new AlwaysOffSampler());
    const consumer = recording();

    const headers = await produced(producer.tracing);
    expect(headers.get("traceparent")).toMatch(/-00$/);
    await consumed(consumer.tracing, headers);
    expect(producer.exporter.getFinishedSpans()).toEqual([]);
    expect(consumer.exporter.getFinishedSpans()).toEqual([]);
  });

  it("makes the same decision for a root where nothing is exported, for those downstream", async () => {
    const unexported = Tracing.create({ serviceName: "gateway", sampler: new AlwaysOffSampler() });
    const everything = Tracing.create({ serviceName: "gateway" });
    const consumer = recording();

    const sampledOut = await produced(unexported);
    const sampledIn = await produced(everything);
    expect(sampledOut.get("traceparent")).toMatch(/-00$/);
    expect(sampledIn.get("traceparent")).toMatch(/-01$/);
    await consumed(consumer.tracing, sampledOut);
    await consumed(consumer.tracing, sampledIn);
    expect(consumer.exporter.getFinishedSpans().map((s) => s.spanContext().traceId)).toEqual([
      everything.traceIdOf(everything.extract(sampledIn)),
    ]);
  });

  it("asks the sampler about a new trace's own id, however often it asks", async () => {
    const asked: string[] = [];
    const sampler: Sampler = {
      shouldSample: (_context, traceId) => {
        asked.push(traceId);
        return { decision: SamplingDecision.RECORD_AND_SAMPLED };
      },
      toString: () => "AskedAbout",
    };
    const { tracing, exporter } = recording(sampler);
    await produced(tracing);
    const [span] = exporter.getFinishedSpans();
    expect(asked.length).toBeGreaterThan(0);
    expect(new Set(asked)).toEqual(new Set([span!.spanContext().traceId]));
  });

  it("continues a trace its sampler drops, unsampled, with a span id of its own", async () => {
    const producer = recording(new ParentBasedSampler({ root: new AlwaysOffSampler() }));
    const consumer = recording(new AlwaysOffSampler());
    const headers = await produced(producer.tracing);
    const parentTraceparent = headers.get("traceparent");
    await consumer.tracing.consume(headers, { subject: "work.echo" }, (ctx) => {
      const next = natsHeaders();
      consumer.tracing.inject(ctx, next);
      const [, traceId, spanId, flags] = next.get("traceparent").split("-");
      expect(traceId).toBe(parentTraceparent.split("-")[1]);
      expect(spanId).not.toBe(parentTraceparent.split("-")[2]);
      expect(flags).toBe("00");
      return Promise.resolve();
    });
    expect(consumer.exporter.getFinishedSpans()).toEqual([]);
  });

  it("records a ratio of new traces, each one whole or not at all", async () => {
    const ratio = () => new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(0.5) });
    const producer = recording(ratio());
    const unexported = Tracing.create({ serviceName: "dispatcher", sampler: ratio() });
    // The default sampler: what it records, it learns from the sampled flag alone.
    const consumer = recording();

    const sent = [];
    for (let i = 0; i < 100; i++) sent.push(await produced(producer.tracing));
    for (let i = 0; i < 100; i++) sent.push(await produced(unexported));
    for (const headers of sent) await consumed(consumer.tracing, headers);

    const isSampled = (h: ReturnType<typeof natsHeaders>) => h.get("traceparent").endsWith("-01");
    const traceIdOf = (h: ReturnType<typeof natsHeaders>) => h.get("traceparent").split("-")[1];
    const traceIdsOf = (exporter: InMemorySpanExporter) =>
      exporter
        .getFinishedSpans()
        .map((s) => s.spanContext().traceId)
        .sort();
    const sampled = sent.filter(isSampled);
    expect(sampled.length).toBeGreaterThan(50);
    expect(sampled.length).toBeLessThan(150);
    expect(traceIdsOf(consumer.exporter)).toEqual(sampled.map(traceIdOf).sort());
    expect(traceIdsOf(producer.exporter)).toEqual(
      sent.slice(0, 100).filter(isSampled).map(traceIdOf).sort(),
    );
  });
});
