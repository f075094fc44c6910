import { once } from "node:events";
import { createServer } from "node:http";
import type { ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

import { afterEach, describe, expect, it } from "vitest";

import { Tracing } from "./tracing.ts";
import type { SpanExportLimits } from "./tracing.ts";

interface SpanSink {
  url: string;
  /** Spans received in the JSON exports so far. */
  received(): number;
  /** The most exports whose connections were open at once. */
  mostOpenAtOnce(): number;
  /** The content type of every export received. */
  contentTypes(): string[];
  /** Answers the exports held so far, and from now on every export at once. */
  release(): void;
  close(): Promise<void>;
}

/**
 * An OTLP/HTTP endpoint that holds every export unanswered until released (a slow collector), then
 * answers with `status`.
 */
async function slowCollector(status = 200): Promise<SpanSink> {
  let received = 0;
  const contentTypes: string[] = [];
  let released = false;
  const held: ServerResponse[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      contentTypes.push(req.headers["content-type"] ?? "none");
      if (req.headers["content-type"] === "application/json") {
        const body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as {
          resourceSpans: { scopeSpans: { spans: unknown[] }[] }[];
        };
        for (const r of body.resourceSpans)
          for (const s of r.scopeSpans) received += s.spans.length;
      }
      res.writeHead(status, { "content-type": "application/json" });
      if (released) res.end("{}");
      else held.push(res);
    });
  });
  let open = 0;
  let mostOpen = 0;
  server.on("connection", (socket) => {
    mostOpen = Math.max(mostOpen, ++open);
    // An HTTP server keeps a socket the client closed half open while its answer is held: the
    // client's end counts as the export's.
    let counted = true;
    const gone = () => {
      if (counted) open--;
      counted = false;
    };
    socket.on("end", gone);
    socket.on("close", gone);
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    received: () => received,
    mostOpenAtOnce: () => mostOpen,
    contentTypes: () => contentTypes,
    release: () => {
      released = true;
      for (const res of held.splice(0)) res.end("{}");
    },
    close: async () => {
      server.closeAllConnections();
      server.close();
      await once(server, "close");
    },
  };
}

async function endSpans(tracing: Tracing, count: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    await tracing.produce(undefined, { subject: `work.echo.${i}` }, () => Promise.resolve());
  }
}

const waitUntil = async (done: () => boolean) => {
  while (!done()) await new Promise((resolve) => setTimeout(resolve, 10));
};

describe("exporting spans over OTLP", () => {
  const cleanup: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const step of cleanup.splice(0).reverse()) await step();
  });

  /** Tracing that exports to `collector` (in JSON) within `limits`, and the problems it reported. */
  function exportingTo(collector: SpanSink, limits: Partial<SpanExportLimits>) {
    const problems: string[] = [];
    const tracing = Tracing.create({
      serviceName: "test",
      otlpEndpoint: collector.url,
      otlpProtocol: "http/json",
      exportLimits: limits,
      onExportProblem: (message) => problems.push(message),
    });
    cleanup.push(() => tracing.shutdown());
    return { tracing, problems };
  }

  it("sends protobuf, OpenTelemetry's default, unless told JSON", async () => {
    const collector = await slowCollector();
    cleanup.push(() => collector.close());
    collector.release();
    for (const otlpProtocol of [undefined, "http/json", "http/protobuf"] as const) {
      const tracing = Tracing.create({
        serviceName: "test",
        otlpEndpoint: collector.url,
        otlpProtocol,
      });
      await endSpans(tracing, 1);
      await tracing.shutdown();
    }
    expect(collector.contentTypes()).toEqual([
      "application/x-protobuf",
      "application/json",
      "application/x-protobuf",
    ]);
  });

  it("drops the spans that end while the export queue is full, and reports how many", async () => {
    const collector = await slowCollector();
    cleanup.push(() => collector.close());
    const { tracing, problems } = exportingTo(collector, {
      maxQueueSize: 4,
      maxExportBatchSize: 2,
      scheduledDelayMillis: 60_000,
    });

    // Two spans fill a batch, whose export the collector holds; four more fill the queue.
    await endSpans(tracing, 2);
    await waitUntil(() => collector.received() === 2);
    await endSpans(tracing, 4 + 3);
    expect(problems).toEqual([]);

    // Once the queue has been sent, the next span is taken, and the drops are reported.
    collector.release();
    await waitUntil(() => collector.received() === 2 + 4);
    await endSpans(tracing, 1);
    await tracing.shutdown();
    expect(collector.received()).toBe(2 + 4 + 1);
    expect(problems).toEqual(["Dropped 3 spans because maxQueueSize reached"]);
  });

  it("keeps every span a queue of the configured size can hold while an export is slow", async () => {
    const collector = await slowCollector();
    cleanup.push(() => collector.close());
    const { tracing, problems } = exportingTo(collector, {
      maxQueueSize: 64,
      maxExportBatchSize: 8,
      scheduledDelayMillis: 60_000,
    });

    await endSpans(tracing, 8);
    await waitUntil(() => collector.received() === 8);
    await endSpans(tracing, 64);
    collector.release();
    await tracing.shutdown();
    expect(collector.received()).toBe(8 + 64);
    expect(problems).toEqual([]);
  });

  it("reports an export the collector refuses", async () => {
    const collector = await slowCollector(400);
    cleanup.push(() => collector.close());
    collector.release();
    const { tracing, problems } = exportingTo(collector, { maxExportBatchSize: 1 });

    await endSpans(tracing, 1);
    await waitUntil(() => problems.length > 0);
    expect(problems[0]).toBe("OTLPExporterError: Bad Request");
  });

  it("sends one export at a time when the collector never answers, giving each up at the export timeout", async () => {
    // An export timeout shorter than the exporter's own let the batch processor start export
    // after export while the earlier requests stayed open: 30 at once, tens of MiB of spans.
    const collector = await slowCollector();
    cleanup.push(() => collector.close());
    const { tracing, problems } = exportingTo(collector, {
      maxExportBatchSize: 4,
      scheduledDelayMillis: 20,
      exportTimeoutMillis: 200,
    });
    const until = Date.now() + 1500;
    while (Date.now() < until) {
      await endSpans(tracing, 8);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(collector.mostOpenAtOnce()).toBeLessThanOrEqual(2);
    expect(problems.length).toBeGreaterThan(0);
  });
});
