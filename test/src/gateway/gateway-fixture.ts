import { once } from "node:events";
import { connect as connectTcp } from "node:net";
import type { AddressInfo } from "node:net";

import { createGatewayApp } from "@conveyor/gateway";
import type { GatewayOptions } from "@conveyor/gateway";
import { JobTypeRegistry } from "@conveyor/job-registry";
import { createLogger } from "@conveyor/service-kit";
import type { Logger } from "@conveyor/service-kit";
import { Tracing } from "@conveyor/telemetry";
import { uniqueName } from "@conveyor/testing";
import { ensureTopology } from "@conveyor/topology";
import { jetstreamManager } from "@nats-io/jetstream";
import type { SpanProcessor } from "@opentelemetry/sdk-trace";
import type { JetStreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import type { NatsConnection } from "@nats-io/transport-node";
import { MongoClient } from "mongodb";
import type { Db } from "mongodb";
import { z } from "zod";

/** The payload of the `echo` type every gateway test registers. */
export const EchoPayload = z.object({
  message: z.string(),
  delayMs: z.int().min(0).optional(),
});

/** A gateway listening on a loopback port, wired to real servers. */
export interface GatewayUnderTest extends AsyncDisposable {
  baseUrl: string;
  nc: NatsConnection;
  jsm: JetStreamManager;
  db: Db;
  registry: JobTypeRegistry;
}

export interface GatewayFixtureOptions extends Partial<GatewayOptions> {
  natsUrl: string;
  mongoUrl: string;
  /** Where the gateway's spans go, for tests that read them; spans are not recorded without. */
  spanProcessors?: SpanProcessor[];
  /** The gateway's logger. @default silent */
  logger?: Logger;
  /** Aborted to tell the gateway it is stopping. */
  stopping?: AbortSignal;
}

/**
 * Provisions the topology, registers `echo`, and serves a gateway over a fresh database. NATS
 * reconnects without limit, as in `main.ts`, so tests can stop and restart the server.
 */
export async function startGateway(options: GatewayFixtureOptions): Promise<GatewayUnderTest> {
  const logger = options.logger ?? createLogger("gateway-test", "silent");
  const nc = await connect({
    servers: options.natsUrl,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 100,
  });
  const jsm = await jetstreamManager(nc);
  await ensureTopology(jsm);
  const registry = await JobTypeRegistry.open(nc, { logger });
  await registry.register({ type: "echo", payloadSchema: z.toJSONSchema(EchoPayload) });
  const mongo = new MongoClient(options.mongoUrl, { serverSelectionTimeoutMS: 2000 });
  const db = mongo.db(uniqueName("gateway"));
  const tracing = Tracing.create({
    serviceName: "gateway-test",
    spanProcessors: options.spanProcessors,
  });

  const app = createGatewayApp({
    nc,
    jsm,
    db,
    registry,
    tracing,
    logger,
    stopping: options.stopping,
    options: {
      maxBodyBytes: options.maxBodyBytes ?? 64 * 1024,
      maxBulkBodyBytes: options.maxBulkBodyBytes ?? 1024 * 1024,
      publishTimeoutMs: options.publishTimeoutMs ?? 2000,
      readTimeoutMs: options.readTimeoutMs,
      readyTimeoutMs: options.readyTimeoutMs,
      gatherSubmissions: options.gatherSubmissions,
      continueTraces: options.continueTraces,
      maxJobWaits: options.maxJobWaits,
      jobStreamMaxMs: options.jobStreamMaxMs,
    },
  });
  const server = app.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as AddressInfo;

  return {
    baseUrl: `http://127.0.0.1:${port}`,
    nc,
    jsm,
    db,
    registry,
    async [Symbol.asyncDispose]() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => {
        server.close(() => {
          resolve();
        });
      });
      await registry.close();
      await nc.close();
      await mongo.close(true);
      await tracing.shutdown();
    },
  };
}

/** A JSON response: status, headers and parsed body. */
export interface JsonResponse {
  status: number;
  headers: Headers;
  body: Record<string, unknown>;
}

/** Sends a request and parses the JSON body (every gateway response is JSON). */
export async function request(
  url: string,
  init: { method?: string; body?: string | undefined; headers?: Record<string, string> } = {},
): Promise<JsonResponse> {
  const response = await fetch(url, {
    method: init.method ?? "GET",
    body: init.body,
    headers: { "content-type": "application/json", ...init.headers },
  });
  const text = await response.text();
  return {
    status: response.status,
    headers: response.headers,
    body: JSON.parse(text) as Record<string, unknown>,
  };
}

/** `POST /v1/jobs` with a JSON body. */
export function submit(
  gateway: GatewayUnderTest,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<JsonResponse> {
  return request(`${gateway.baseUrl}/v1/jobs`, {
    method: "POST",
    body: JSON.stringify(body),
    headers,
  });
}

/** `POST /v1/jobs/bulk` with a JSON body. */
export function submitBulk(
  gateway: GatewayUnderTest,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<JsonResponse> {
  return request(`${gateway.baseUrl}/v1/jobs/bulk`, {
    method: "POST",
    body: JSON.stringify(body),
    headers,
  });
}

/**
 * POSTs `bodies` in one write on one connection (HTTP/1.1 pipelining), so that they reach the
 * gateway together, and parses the responses, which come back in order.
 */
export async function pipelinedPosts(
  baseUrl: string,
  path: string,
  bodies: readonly unknown[],
): Promise<{ status: number; body: Record<string, unknown> }[]> {
  const { hostname, port } = new URL(baseUrl);
  const socket = connectTcp(Number(port), hostname);
  await once(socket, "connect");
  const requests = bodies.map((body) => {
    const text = JSON.stringify(body);
    return (
      `POST ${path} HTTP/1.1\r\nHost: ${hostname}\r\nContent-Type: application/json\r\n` +
      `Content-Length: ${Buffer.byteLength(text)}\r\n\r\n${text}`
    );
  });
  socket.write(requests.join(""));
  // A request left unanswered fails the test here rather than at vitest's timeout.
  socket.setTimeout(10_000, () => socket.destroy(new Error("pipelined POSTs: no answer in 10 s")));
  const responses: { status: number; body: Record<string, unknown> }[] = [];
  let buffered = Buffer.alloc(0);
  try {
    for await (const chunk of socket) {
      buffered = Buffer.concat([buffered, chunk as Buffer]);
      for (;;) {
        const headEnd = buffered.indexOf("\r\n\r\n");
        if (headEnd < 0) break;
        const head = buffered.subarray(0, headEnd).toString();
        const length = Number(/content-length: *(\d+)/i.exec(head)?.[1] ?? 0);
        if (buffered.length < headEnd + 4 + length) break;
        const body = buffered.subarray(headEnd + 4, headEnd + 4 + length).toString();
        responses.push({
          status: Number(head.split(" ")[1]),
          body: JSON.parse(body) as Record<string, unknown>,
        });
        buffered = buffered.subarray(headEnd + 4 + length);
      }
      if (responses.length === bodies.length) break;
    }
  } finally {
    socket.destroy();
  }
  if (responses.length !== bodies.length) {
    throw new Error(`pipelined POSTs: ${responses.length} of ${bodies.length} answered`);
  }
  return responses;
}
