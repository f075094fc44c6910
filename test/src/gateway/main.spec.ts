import { spawn } from "node:child_process";
import { once } from "node:events";
import { setTimeout as sleep } from "node:timers/promises";
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

/** Starts the gateway's main with `env` (and PATH), collecting what it prints. */
function spawnGatewayMain(env: Record<string, string>) {
  const child = spawn(process.execPath, ["--conditions=conveyor-source", mainPath], {
    env: { PATH: process.env["PATH"], ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const exited = once(child, "exit") as Promise<[number | null]>;
  return { child, output: () => output, exited };
}

/** Waits until the gateway at `baseUrl` answers `/readyz` with 200. */
function untilReady(baseUrl: string, message: string) {
  return waitFor(async () => (await fetch(`${baseUrl}/readyz`).catch(() => undefined))?.ok, {
    timeoutMs: 30_000,
    message,
  });
}

/** A NATS server with the topology and the `echo` type registered. */
async function provisionedNats() {
  const nats = await startNatsServer();
  try {
    const nc = await connect({ servers: nats.url });
    try {
      await ensureTopology(await jetstreamManager(nc));
      const registry = await JobTypeRegistry.open(nc);
      await registry.register({ type: "echo" });
      await registry.close();
    } finally {
      await nc.close();
    }
    return nats;
  } catch (err) {
    await nats[Symbol.asyncDispose]();
    throw err;
  }
}

describe("gateway main", () => {
  it("starts and takes submissions while MongoDB is down, answering reads 503 until it is back", async () => {
    // A pod started during a MongoDB outage (a scale-up, a rollout) must serve intake, as the
    // pods already running do: only reads need the read model. Once MongoDB is back, reads too.
    await using nats = await provisionedNats();
    await using mongo = await startMongoServer();
    await mongo.stop();
    const port = await freePort();
    const main = spawnGatewayMain({
      NATS_URL: nats.url,
      // Short selection: every failed first connect lasts this long.
      MONGO_URL: `${mongo.url}?serverSelectionTimeoutMS=500`,
      MONGO_DB: uniqueName("gateway_main"),
      GATEWAY_PORT: String(port),
      METRICS_PORT: String(await freePort()),
      LOG_LEVEL: "warn",
    });
    try {
      const baseUrl = `http://127.0.0.1:${String(port)}`;
      await untilReady(baseUrl, "gateway main ready without MongoDB");
      const ready = (await (await fetch(`${baseUrl}/readyz`)).json()) as { status: string };
      expect(ready.status).toBe("degraded");
      const submitted = await fetch(`${baseUrl}/v1/jobs`, {
        method: "POST",
        body: JSON.stringify({ type: "echo", payload: "while mongo is down" }),
      });
      expect(submitted.status).toBe(202);
      expect((await fetch(`${baseUrl}/v1/jobs`)).status).toBe(503);
      // Let the first connect fail for good before MongoDB comes back.
      await new Promise((resolve) => setTimeout(resolve, 1500));

      await mongo.restart();
      await waitFor(async () => (await fetch(`${baseUrl}/v1/jobs`)).status === 200, {
        timeoutMs: 30_000,
        message: "reads answered once MongoDB is back",
      });
      const readyAgain = (await (await fetch(`${baseUrl}/readyz`)).json()) as { status: string };
      expect(readyAgain.status).toBe("ready");
    } finally {
      main.child.kill("SIGTERM");
    }
    const [code] = await main.exited;
    expect(code, main.output()).toBe(0);
  });

  it("serves from its environment after verifying the topology, with its metrics, and exits 0 on SIGTERM", async () => {
    await using nats = await provisionedNats();
    await using mongo = await startMongoServer();
    const port = await freePort();
    const metricsPort = await freePort();
    const main = spawnGatewayMain({
      NATS_URL: nats.url,
      MONGO_URL: mongo.url,
      MONGO_DB: uniqueName("gateway_main"),
      GATEWAY_PORT: String(port),
      METRICS_PORT: String(metricsPort),
      LOG_LEVEL: "warn",
    });
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
      main.child.kill("SIGTERM");
    }
    const [code] = await main.exited;
    expect(code, main.output()).toBe(0);
  });

  it("requires one of GATEWAY_API_TOKENS on the API when set, and keeps the probes open", async () => {
    await using nats = await provisionedNats();
    await using mongo = await startMongoServer();
    const port = await freePort();
    const token = "gateway-test-token-0123456789";
    const main = spawnGatewayMain({
      NATS_URL: nats.url,
      MONGO_URL: mongo.url,
      MONGO_DB: uniqueName("gateway_auth"),
      GATEWAY_PORT: String(port),
      METRICS_PORT: String(await freePort()),
      LOG_LEVEL: "warn",
      GATEWAY_API_TOKENS: `other-token-abcdefghijklm,${token}`,
    });
    try {
      const baseUrl = `http://127.0.0.1:${String(port)}`;
      await waitFor(async () => (await fetch(`${baseUrl}/readyz`)).ok, {
        timeoutMs: 30_000,
        message: "gateway main ready",
      });
      const submit = (headers: Record<string, string>) =>
        fetch(`${baseUrl}/v1/jobs`, {
          method: "POST",
          headers,
          body: JSON.stringify({ type: "echo", payload: "hi" }),
        });
      const refused = await submit({});
      expect(refused.status).toBe(401);
      expect(await refused.json()).toMatchObject({ error: "unauthorized" });
      expect((await submit({ authorization: "Bearer not-this-one-0123456789" })).status).toBe(401);
      expect((await submit({ authorization: `Bearer ${token}` })).status).toBe(202);
      const description = (await (await fetch(`${baseUrl}/openapi.json`)).json()) as {
        security?: unknown;
      };
      expect(description.security).toEqual([{ bearer: [] }]);
      expect(main.output()).not.toContain(token);
    } finally {
      main.child.kill("SIGTERM");
    }
    const [code] = await main.exited;
    expect(code, main.output()).toBe(0);
  });

  it("exits on SIGTERM while NATS is down, within its grace period and a margin", async () => {
    // The stack's nats-server went first (npm start killed outright): the drain cannot finish,
    // and the gateway must end all the same, or it holds its port with nobody left to stop it.
    await using nats = await provisionedNats();
    await using mongo = await startMongoServer();
    const port = await freePort();
    const main = spawnGatewayMain({
      NATS_URL: nats.url,
      MONGO_URL: mongo.url,
      MONGO_DB: uniqueName("gateway_main"),
      GATEWAY_PORT: String(port),
      METRICS_PORT: String(await freePort()),
      SHUTDOWN_GRACE_MS: "1000",
      LOG_LEVEL: "warn",
    });
    try {
      const baseUrl = `http://127.0.0.1:${String(port)}`;
      await untilReady(baseUrl, "gateway main ready");
      await nats.stop();
      main.child.kill("SIGTERM");
      const exited = await Promise.race([
        main.exited.then(([code]) => code),
        sleep(20_000).then(() => "still running"),
      ]);
      expect(exited).toBe(1);
    } finally {
      main.child.kill("SIGKILL");
    }
  });

  it("exits 1 naming a bad variable", async () => {
    const main = spawnGatewayMain({ GATEWAY_PORT: "not-a-port" });
    const [code] = await main.exited;
    expect(code).toBe(1);
    expect(main.output()).toContain("GATEWAY_PORT");
  });

  it("exits 1 naming MAX_SUBMISSION_BYTES when a job that size would not fit under the server's max_payload", async () => {
    // Such a job could never be stored: answered 503 "retry" for good.
    await using nats = await startNatsServer();
    const main = spawnGatewayMain({
      NATS_URL: nats.url,
      MONGO_URL: "mongodb://127.0.0.1:1",
      GATEWAY_PORT: String(await freePort()),
      MAX_SUBMISSION_BYTES: String(2 * 1024 * 1024),
    });
    const [code] = await main.exited;
    expect(code, main.output()).toBe(1);
    expect(main.output()).toContain("MAX_SUBMISSION_BYTES");
    expect(main.output()).toContain("max_payload");
  });

  it("exits 1 naming what is missing when the topology is not provisioned within TOPOLOGY_WAIT_MS", async () => {
    await using nats = await startNatsServer();
    const main = spawnGatewayMain({
      NATS_URL: nats.url,
      MONGO_URL: "mongodb://127.0.0.1:1",
      GATEWAY_PORT: String(await freePort()),
      TOPOLOGY_WAIT_MS: "1500",
    });
    const [code] = await main.exited;
    expect(code, main.output()).toBe(1);
    expect(main.output()).toContain("stream JOBS");
  });

  it("waits for a topology provisioned after it started, then serves", async () => {
    // The first `kubectl apply` starts the topology Job and the Deployments together.
    await using nats = await startNatsServer();
    await using mongo = await startMongoServer();
    const port = await freePort();
    const main = spawnGatewayMain({
      NATS_URL: nats.url,
      MONGO_URL: mongo.url,
      MONGO_DB: uniqueName("gateway_main"),
      GATEWAY_PORT: String(port),
      METRICS_PORT: String(await freePort()),
      LOG_LEVEL: "warn",
    });
    try {
      await waitFor(() => Promise.resolve(main.output().includes("waiting for the JetStream")), {
        timeoutMs: 30_000,
        message: "gateway main waiting for the topology",
      });
      expect(main.output()).toContain("stream JOBS");
      const nc = await connect({ servers: nats.url });
      try {
        await ensureTopology(await jetstreamManager(nc));
        const registry = await JobTypeRegistry.open(nc);
        await registry.register({ type: "echo" });
        await registry.close();
      } finally {
        await nc.close();
      }
      const baseUrl = `http://127.0.0.1:${String(port)}`;
      await untilReady(baseUrl, "gateway main ready once the topology is provisioned");
      const response = await fetch(`${baseUrl}/v1/jobs`, {
        method: "POST",
        body: JSON.stringify({ type: "echo", payload: "after the wait" }),
      });
      expect(response.status).toBe(202);
    } finally {
      main.child.kill("SIGTERM");
    }
    const [code] = await main.exited;
    expect(code, main.output()).toBe(0);
  });
});
