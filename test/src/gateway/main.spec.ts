import { spawn } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";

import { jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { JobTypeRegistry } from "@conveyor/job-registry";
import {
  freePort,
  startMongoServer,
  startNatsServer,
  uniqueName,
  waitFor,
} from "@conveyor/testing";
import { ensureTopology } from "@conveyor/topology";
import { describe, expect, it } from "vitest";

import { metricValue, scrapeMetrics } from "../support/prometheus.ts";

const mainPath = fileURLToPath(
  import.meta.resolve("@conveyor/gateway").replace(/index\.ts$/, "main.ts"),
);

describe("gateway main", () => {
  it("serves from its environment after verifying the topology, with its metrics, and exits 0 on SIGTERM", async () => {
    await using nats = await startNatsServer();
    await using mongo = await startMongoServer();
    const nc = await connect({ servers: nats.url });
    try {
      await ensureTopology(await jetstreamManager(nc));
      const registry = await JobTypeRegistry.open(nc);
      await registry.register({ type: "echo" });
      await registry.close();
    } finally {
      await nc.close();
    }

    const port = await freePort();
    const metricsPort = await freePort();
    const child = spawn(process.execPath, ["--conditions=conveyor-source", mainPath], {
      env: {
        PATH: process.env["PATH"],
        NATS_URL: nats.url,
        MONGO_URL: mongo.url,
        MONGO_DB: uniqueName("gateway_main"),
        GATEWAY_PORT: String(port),
        METRICS_PORT: String(metricsPort),
        LOG_LEVEL: "warn",
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
    const exited = once(child, "exit");
    try {
      const baseUrl = `http://127.0.0.1:${String(port)}`;
      await waitFor(async () => (await fetch(`${baseUrl}/readyz`)).ok, {
        timeoutMs: 30_000,
        message: "gateway main ready",
      });
      const response = await fetch(`${baseUrl}/v1/jobs`, {
        method: "POST",
        body: JSON.stringify({ type: "echo", payload: "hi" }),
      });
      expect(response.status).toBe(202);
      const metrics = await scrapeMetrics(metricsPort);
      expect(
        metricValue(metrics, "http_request_duration_seconds_count", {
          method: "POST",
          route: "/v1/jobs",
          status: "202",
          service: "gateway",
        }),
      ).toBe("1");
    } finally {
      child.kill("SIGTERM");
    }
    const [code] = (await exited) as [number | null];
    expect(code, output).toBe(0);
  });

  it("exits 1 naming a bad variable", async () => {
    const child = spawn(process.execPath, ["--conditions=conveyor-source", mainPath], {
      env: { PATH: process.env["PATH"], GATEWAY_PORT: "not-a-port" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
    const [code] = (await once(child, "exit")) as [number | null];
    expect(code).toBe(1);
    expect(output).toContain("GATEWAY_PORT");
  });

  it("exits 1 naming what is missing when the topology was not provisioned", async () => {
    await using nats = await startNatsServer();
    const child = spawn(process.execPath, ["--conditions=conveyor-source", mainPath], {
      env: {
        PATH: process.env["PATH"],
        NATS_URL: nats.url,
        MONGO_URL: "mongodb://127.0.0.1:1",
        GATEWAY_PORT: String(await freePort()),
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
    const [code] = (await once(child, "exit")) as [number | null];
    expect(code, output).toBe(1);
    expect(output).toContain("stream JOBS");
  });
});
