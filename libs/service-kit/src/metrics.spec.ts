import { Counter } from "prom-client";
import { afterEach, describe, expect, it } from "vitest";

import { createLogger } from "./logger.ts";
import { readForScrape, startMetrics } from "./metrics.ts";
import type { ServiceMetrics } from "./metrics.ts";

const logger = createLogger("test", "silent");
let metrics: ServiceMetrics | undefined;

afterEach(async () => {
  await metrics?.close();
  metrics = undefined;
});

describe("startMetrics", () => {
  it("serves the process's and the service's own metrics, labelled with the service", async () => {
    metrics = await startMetrics("worker", { METRICS_PORT: 0, METRICS_HOST: "127.0.0.1" }, logger);
    const jobs = new Counter({
      name: "conveyor_test_jobs_total",
      help: "jobs",
      labelNames: ["type"],
      registers: [metrics.registry],
    });
    jobs.inc({ type: "echo" }, 3);

    const res = await fetch(`http://127.0.0.1:${String(metrics.port)}/metrics`);
    const body = await res.text();

    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/plain");
    expect(body).toContain('conveyor_test_jobs_total{type="echo",service="worker"} 3');
    expect(body).toMatch(/^process_cpu_seconds_total\{service="worker"\} /m);
    expect(body).toMatch(/^nodejs_eventloop_lag_p99_seconds\{service="worker"\} /m);
  });

  it("answers 404 anywhere else", async () => {
    metrics = await startMetrics("worker", { METRICS_PORT: 0, METRICS_HOST: "127.0.0.1" }, logger);

    const res = await fetch(`http://127.0.0.1:${String(metrics.port)}/`);

    expect(res.status).toBe(404);
    expect(await res.text()).toContain("GET /metrics");
  });

  it("serves nothing without METRICS_PORT, and leaves the process's metrics out", async () => {
    metrics = await startMetrics("worker", { METRICS_HOST: "127.0.0.1" }, logger);

    expect(metrics.port).toBeUndefined();
    expect(await metrics.registry.metrics()).not.toContain("process_cpu_seconds_total");
  });

  it("fails to start when the port is taken", async () => {
    metrics = await startMetrics("worker", { METRICS_PORT: 0, METRICS_HOST: "127.0.0.1" }, logger);

    await expect(
      startMetrics("other", { METRICS_PORT: metrics.port, METRICS_HOST: "127.0.0.1" }, logger),
    ).rejects.toThrow(/EADDRINUSE/);
  });
});

describe("readForScrape", () => {
  it("answers what the read answers", async () => {
    await expect(readForScrape(() => Promise.resolve(7), 1000)).resolves.toBe(7);
  });

  it("gives up on a read that does not answer in time", async () => {
    await expect(readForScrape(() => new Promise(() => undefined), 20)).rejects.toThrow(
      /no answer within 20 ms/,
    );
  });
});
