import { describe, expect, it } from "vitest";

import { allReach, typesRegistered } from "../e2e-failures/jobs-api.ts";
import { SpanKind, startOtlpReceiver } from "../support/otlp-receiver.ts";
import type { ReceivedSpan } from "../support/otlp-receiver.ts";
import { startServiceStack, waitWhileRunning } from "./service-stack.ts";
import type { ServiceStack } from "./service-stack.ts";

const services = ["dispatcher", "gateway", "status-projector", "worker"];

/** The spans of a trace whose every parent has arrived too (spans are exported as they end). */
function wholeTrace(all: readonly ReceivedSpan[], traceId: string): ReceivedSpan[] | undefined {
  const spans = all.filter((span) => span.traceId === traceId);
  const ids = new Set(spans.map((span) => span.spanId));
  const complete = spans.every((s) => s.parentSpanId === undefined || ids.has(s.parentSpanId));
  const fromAll = services.every((name) => spans.some((span) => span.service === name));
  return complete && fromAll ? spans : undefined;
}

/** Checks one job's trace: a tree rooted at the gateway, each hop a message. */
function expectOneTree(spans: readonly ReceivedSpan[]): void {
  // One tree, rooted in the request's SERVER span at the gateway.
  const roots = spans.filter((span) => span.parentSpanId === undefined);
  expect(roots.map((span) => [span.service, span.kind])).toEqual([["gateway", SpanKind.Server]]);
  // Every hop from one service to the next is a message: a CONSUMER span whose parent is the
  // span that published it, in the service before (a PRODUCER span, or for the worker's events
  // the span of the attempt they tell of). The projector processes the job's `queued` event and
  // its outcome.
  const byId = new Map(spans.map((span) => [span.spanId, span]));
  const hops = new Set(
    spans
      .filter((span) => span.kind === SpanKind.Consumer)
      .map((span) => {
        const parent = byId.get(span.parentSpanId ?? "");
        const via = parent?.kind === SpanKind.Producer ? "->" : "~>";
        return `${parent?.service ?? "?"} ${via} ${span.service}`;
      }),
  );
  expect([...hops].sort()).toEqual([
    "dispatcher -> status-projector",
    "dispatcher -> worker",
    "gateway -> dispatcher",
    "worker ~> status-projector",
  ]);
}

/**
 * The four services exporting spans (with `env` besides) to an OTLP receiver of the test's, once
 * the echo type is registered. Disposing stops the services, then the receiver.
 */
async function tracedStack(env: Record<string, string>) {
  await using cleanup = new AsyncDisposableStack();
  const receiver = cleanup.use(await startOtlpReceiver());
  const stack = cleanup.use(
    await startServiceStack({ env: { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, ...env } }),
  );
  await typesRegistered(stack, ["echo"]);
  const owned = cleanup.move();
  return { receiver, stack, [Symbol.asyncDispose]: () => owned.disposeAsync() };
}

/** Submits `count` echo jobs over REST at once and waits until all have succeeded. */
async function echoJobsSucceeded(stack: ServiceStack, count: number) {
  const answers = await Promise.all(
    Array.from({ length: count }, async (_, i) => {
      const res = await fetch(`${stack.gatewayUrl}/v1/jobs`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ type: "echo", payload: { i } }),
      });
      expect(res.status).toBe(202);
      return (await res.json()) as { id: string; traceId: string };
    }),
  );
  await allReach(
    stack,
    "echo",
    answers.map((a) => a.id),
    "succeeded",
    30_000,
  );
  return answers;
}

describe("tracing across the four services", () => {
  it(
    "exports each REST job's whole path over OTLP as one trace, jobs projected together included",
    { timeout: 120_000 },
    async () => {
      await using traced = await tracedStack({});
      const { receiver, stack } = traced;

      // Submitted together, so that the projector stores them in one batch.
      const answers = await echoJobsSucceeded(stack, 5);

      for (const { traceId } of answers) {
        // Each service's batch processor exports within 500 ms.
        const spans = await waitWhileRunning(
          stack,
          () => Promise.resolve(wholeTrace(receiver.spans(), traceId)),
          {
            timeoutMs: 45_000,
            intervalMs: 250,
            get message() {
              const seen = receiver.spans().filter((span) => span.traceId === traceId);
              return `trace ${traceId} incomplete: ${JSON.stringify(seen)}`;
            },
          },
        );
        expectOneTree(spans);
      }
      // Protobuf is OpenTelemetry's default OTLP encoding, and the services'.
      expect([...receiver.contentTypes()]).toEqual(["application/x-protobuf"]);
      expect(receiver.refused()).toEqual([]);
      expect(stack.deadServices()).toEqual([]);
    },
  );

  it(
    "samples a ratio of jobs, each job's trace exported whole by all four services or not at all",
    { timeout: 120_000 },
    async () => {
      await using traced = await tracedStack({
        OTEL_TRACES_SAMPLER: "parentbased_traceidratio",
        OTEL_TRACES_SAMPLER_ARG: "0.5",
        OTEL_BSP_SCHEDULE_DELAY: "200",
      });
      const { receiver, stack } = traced;

      const answers = await echoJobsSucceeded(stack, 24);
      // Every sampled trace arrives whole; then nothing more comes for a while.
      const traceIds = answers.map((a) => a.traceId);
      const partial = () =>
        traceIds.filter((id) => {
          const seen = receiver.spans().some((span) => span.traceId === id);
          return seen && wholeTrace(receiver.spans(), id) === undefined;
        });
      await waitWhileRunning(stack, () => Promise.resolve(partial().length === 0), {
        timeoutMs: 30_000,
        intervalMs: 250,
        get message() {
          return `traces still partial: ${partial().join(", ")}`;
        },
      });
      await new Promise((resolve) => setTimeout(resolve, 2000));

      const exported = traceIds.filter((id) => wholeTrace(receiver.spans(), id) !== undefined);
      expect(partial()).toEqual([]);
      // Half on average; all or none of 24 would happen by chance once in eight million runs.
      expect(exported.length).toBeGreaterThan(0);
      expect(exported.length).toBeLessThan(traceIds.length);
      expect(receiver.refused()).toEqual([]);
      expect(stack.deadServices()).toEqual([]);
    },
  );

  it(
    "sizes and encodes the span export from OTEL_* and logs the spans a full queue drops",
    { timeout: 120_000 },
    async () => {
      await using traced = await tracedStack({
        OTEL_BSP_MAX_QUEUE_SIZE: "16",
        OTEL_BSP_MAX_EXPORT_BATCH_SIZE: "16",
        OTEL_EXPORTER_OTLP_PROTOCOL: "http/json",
      });
      const { receiver, stack } = traced;

      // A thousand jobs at once end far more spans than a queue of 16 holds during an export.
      const res = await fetch(`${stack.gatewayUrl}/v1/jobs/bulk`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({
          jobs: Array.from({ length: 1000 }, (_, i) => ({ type: "echo", payload: { i } })),
        }),
      });
      expect(res.status).toBe(202);

      const dropped =
        /"component":"tracing".*"msg":"Dropped \d+ spans because maxQueueSize reached"/;
      await waitWhileRunning(stack, () => Promise.resolve(dropped.test(stack.logs())), {
        timeoutMs: 30_000,
        intervalMs: 250,
        get message() {
          return `no service logged dropped spans:\n${stack.logs()}`;
        },
      });
      // What the queue held still reached the collector, in batches of 16.
      await waitWhileRunning(stack, () => Promise.resolve(receiver.spans().length > 0), {
        timeoutMs: 30_000,
        intervalMs: 250,
        message: "no spans exported",
      });
      expect([...receiver.contentTypes()]).toEqual(["application/json"]);
      expect(receiver.refused()).toEqual([]);
      expect(stack.deadServices()).toEqual([]);
    },
  );
});
