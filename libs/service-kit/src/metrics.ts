import { createServer } from "node:http";
import type { AddressInfo } from "node:net";

import { Registry, collectDefaultMetrics } from "prom-client";
import { z } from "zod";

import type { Logger } from "./logger.ts";

/** Environment variables of a service's Prometheus endpoint. */
export const metricsEnv = {
  /**
   * Port of `GET /metrics` (Prometheus text format); 0 takes a free one (logged); unset: the
   * service serves no metrics.
   */
  METRICS_PORT: z.coerce.number().int().min(0).max(65_535).optional(),
  /** Address the metrics endpoint listens on (`0.0.0.0` in a container, for the scraper). */
  METRICS_HOST: z.string().min(1).default("127.0.0.1"),
} as const;

/** A service's metrics and, when `METRICS_PORT` is set, the endpoint that serves them. */
export interface ServiceMetrics {
  /** Where the service registers its own metrics; every series carries `service`. */
  registry: Registry;
  /** The endpoint's port (useful with `METRICS_PORT=0`); undefined when there is none. */
  port: number | undefined;
  close(): Promise<void>;
}

/** How long a scrape waits for what it asks nats-server, in milliseconds: under a scraper's 10 s. */
export const scrapeReadTimeoutMs = 2000;

/**
 * What `read` answers, for a gauge's `collect`: rejected after `timeoutMs`, so that a slow server
 * fails this gauge rather than the whole scrape.
 */
export async function readForScrape<T>(
  read: () => Promise<T>,
  timeoutMs = scrapeReadTimeoutMs,
): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      reject(new Error(`no answer within ${String(timeoutMs)} ms`));
    }, timeoutMs);
  });
  try {
    return await Promise.race([read(), timedOut]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The metrics of one service: Node's process and runtime metrics (CPU, memory, event-loop lag, GC)
 * and whatever the service adds to `registry`, served at `GET /metrics` on `METRICS_PORT`, apart
 * from any public API.
 */
export async function startMetrics(
  service: string,
  env: { METRICS_PORT?: number | undefined; METRICS_HOST: string },
  logger: Logger,
): Promise<ServiceMetrics> {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  if (env.METRICS_PORT === undefined) return { registry, port: undefined, close: async () => {} };
  // Only when served: they watch every garbage collection and sample the event loop's delay.
  collectDefaultMetrics({ register: registry });

  const server = createServer((req, res) => {
    const path = (req.url ?? "").split("?")[0];
    if (req.method !== "GET" || path !== "/metrics") {
      res.writeHead(404, { "content-type": "text/plain; charset=utf-8" });
      res.end("not found: metrics are at GET /metrics\n");
      return;
    }
    registry.metrics().then(
      (body) => {
        res.writeHead(200, { "content-type": registry.contentType });
        res.end(body);
      },
      (err: unknown) => {
        logger.warn({ err }, "collecting metrics failed");
        res.writeHead(500, { "content-type": "text/plain; charset=utf-8" });
        res.end("collecting metrics failed\n");
      },
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(env.METRICS_PORT, env.METRICS_HOST, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  logger.info({ port, host: env.METRICS_HOST }, "metrics served at GET /metrics");
  return {
    registry,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => {
          resolve();
        });
        server.closeAllConnections();
      }),
  };
}
