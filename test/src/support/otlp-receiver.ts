import { once } from "node:events";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { gunzipSync } from "node:zlib";

import { spansOfProtobuf } from "./otlp-protobuf.ts";

/** One span as a service exported it, in OTLP/JSON's terms. */
export interface ReceivedSpan {
  service: string;
  traceId: string;
  spanId: string;
  /** Absent for a trace's root. */
  parentSpanId: string | undefined;
  name: string;
  /** OTLP's enum: 1 internal, 2 server, 3 client, 4 producer, 5 consumer. */
  kind: number;
}

/** OTLP span kinds, as numbers in OTLP/JSON. */
export const SpanKind = { Internal: 1, Server: 2, Client: 3, Producer: 4, Consumer: 5 } as const;

/**
 * An OTLP/HTTP endpoint for traces (`POST /v1/traces`, protobuf or JSON, as
 * `@opentelemetry/exporter-trace-otlp-proto` and `-http` send), keeping what services export so
 * that a test reads what a tracing backend would show. Point `OTEL_EXPORTER_OTLP_ENDPOINT` at `url`.
 */
export interface OtlpReceiver extends AsyncDisposable {
  url: string;
  spans(): readonly ReceivedSpan[];
  /** The content types of the exports received, e.g. `application/x-protobuf`. */
  contentTypes(): ReadonlySet<string>;
  /** Requests that were not OTLP traces, with why: each would be a lost export. */
  refused(): readonly string[];
}

interface OtlpAttribute {
  key: string;
  value: { stringValue?: string };
}

interface OtlpExport {
  resourceSpans?: {
    resource?: { attributes?: OtlpAttribute[] };
    scopeSpans?: {
      spans?: {
        traceId: string;
        spanId: string;
        parentSpanId?: string;
        name: string;
        kind: number;
      }[];
    }[];
  }[];
}

export async function startOtlpReceiver(): Promise<OtlpReceiver> {
  const received: ReceivedSpan[] = [];
  const refused: string[] = [];
  const contentTypes = new Set<string>();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      try {
        if (req.method !== "POST" || req.url !== "/v1/traces") {
          throw new Error(`${req.method ?? "?"} ${req.url ?? "?"}`);
        }
        const raw = Buffer.concat(chunks);
        const body = req.headers["content-encoding"] === "gzip" ? gunzipSync(raw) : raw;
        const contentType = req.headers["content-type"] ?? "none";
        if (contentType === "application/json") {
          received.push(...spansOfJson(JSON.parse(body.toString("utf8")) as OtlpExport));
          res.writeHead(200, { "content-type": "application/json" }).end("{}");
        } else if (contentType === "application/x-protobuf") {
          received.push(...spansOfProtobuf(body));
          // An empty ExportTraceServiceResponse: full success.
          res.writeHead(200, { "content-type": "application/x-protobuf" }).end();
        } else {
          throw new Error(`content-type ${contentType}`);
        }
        contentTypes.add(contentType);
      } catch (err) {
        refused.push(err instanceof Error ? err.message : String(err));
        res.writeHead(400).end();
      }
    });
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    spans: () => received,
    contentTypes: () => contentTypes,
    refused: () => refused,
    async [Symbol.asyncDispose]() {
      server.closeAllConnections();
      server.close();
      await once(server, "close");
    },
  };
}

function spansOfJson(body: OtlpExport): ReceivedSpan[] {
  return (body.resourceSpans ?? []).flatMap((resourceSpans) => {
    const service =
      resourceSpans.resource?.attributes?.find((a) => a.key === "service.name")?.value
        .stringValue ?? "";
    return (resourceSpans.scopeSpans ?? []).flatMap((scope) =>
      (scope.spans ?? []).map((span) => ({
        service,
        traceId: span.traceId,
        spanId: span.spanId,
        parentSpanId: span.parentSpanId === "" ? undefined : span.parentSpanId,
        name: span.name,
        kind: span.kind,
      })),
    );
  });
}
