import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { once } from "node:events";
import { join } from "node:path";

import { StreamName, workConsumerName } from "@conveyor/contracts";
import type { JobEvent } from "@conveyor/contracts";
import { waitFor, workspaceRoot } from "@conveyor/testing";
import { builtinHandlers } from "@conveyor/worker";
import type { AnalysisResult } from "@conveyor/worker";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { metricValue, scrapeMetrics } from "../support/prometheus.ts";
import { useWorkFixture } from "./work-fixture.ts";

const kinds = (events: JobEvent[]) => events.map((e) => `${e.kind}@${e.attempt}`);

describe("reference worker", () => {
  const fx = useWorkFixture();

  describe("built-in types", () => {
    beforeAll(async () => {
      await fx.worker({ handlers: builtinHandlers });
    });

    afterAll(async () => {
      await fx.stopWorkers();
    });

    it("json.analyze reports progress per document and recommends storage", async () => {
      const item = await fx.enqueue("json.analyze", {
        documents: [
          { id: 1, name: "Ada", email: "ada@example.com" },
          { id: 2, name: "Bob", email: null },
          { id: 3, name: "Cy", orders: [{ sku: "A", qty: 1 }] },
        ],
        delayPerDocumentMs: 10,
      });

      const events = await fx.eventsUntil(item.id, "succeeded");
      const progress = events.filter((e) => e.kind === "progress");
      expect(progress.map((e) => [e.done, e.total, e.message])).toEqual([
        [1, 3, "analyzed document 1/3"],
        [2, 3, "analyzed document 2/3"],
        [3, 3, "analyzed document 3/3"],
      ]);
      const succeeded = events.find((e) => e.kind === "succeeded");
      const result =
        succeeded?.kind === "succeeded"
          ? (succeeded.result as unknown as AnalysisResult)
          : undefined;
      expect(result?.documents.map((d) => d.storage)).toEqual(["sql", "sql", "jsonb"]);
      expect(result?.documents[2]?.reason).toContain("arrays of objects at orders");
      expect(result?.summary).toEqual({ sql: 2, jsonb: 1 });
    });

    it("flaky fails its first attempts, is retried, then succeeds", async () => {
      const item = await fx.enqueue("flaky", { failTimes: 1 });
      const events = await fx.eventsUntil(item.id, "succeeded");
      expect(kinds(events)).toEqual(["failed@1", "succeeded@2"]);
      expect(events[0]).toMatchObject({
        retryDelayMs: 1000,
        error: { message: "planned failure 1 of 1" },
      });
    });

    it("sleep is cut short by the job's timeout", async () => {
      const item = await fx.enqueue("sleep", { ms: 60_000 }, { timeoutMs: 100, maxAttempts: 1 });
      const events = await fx.eventsUntil(item.id, "dead");
      expect(kinds(events)).toEqual(["started@1", "dead@1"]);
      expect(events[1]).toMatchObject({
        reason: "attempts_exhausted",
        error: { name: "JobTimeoutError" },
      });
    });

    it("dead-letters a payload the type's schema refuses", async () => {
      const item = await fx.enqueue("sleep", { ms: -1 });
      const events = await fx.eventsUntil(item.id, "dead");
      expect(events[0]).toMatchObject({ kind: "dead", error: { name: "InvalidPayloadError" } });
    });
  });

  it("runs as a process from main.ts and drains on SIGTERM", async () => {
    const main = join(workspaceRoot(), "services/worker/src/main.ts");
    const child: ChildProcess = spawn(process.execPath, ["--conditions=conveyor-source", main], {
      env: { ...process.env, NATS_URL: fx.server.url, WORKER_ID: "ref-process", LOG_LEVEL: "info" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout?.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.stderr?.on("data", (chunk: Buffer) => (output += chunk.toString()));
    const exited = once(child, "exit");
    try {
      await waitFor(() => Promise.resolve(output.includes("worker started")), {
        timeoutMs: 20_000,
        message: "the worker process to start",
      });
      const item = await fx.enqueue("echo", { from: "test" });
      const events = await waitFor(
        async () => {
          const all = await fx.events(item.id);
          return all.some((e) => e.kind === "succeeded" && e.workerId === "ref-process")
            ? all
            : undefined;
        },
        { timeoutMs: 15_000, message: "the process to run the job" },
      );
      expect(events.find((e) => e.kind === "succeeded")).toMatchObject({
        result: { from: "test" },
      });

      child.kill("SIGTERM");
      const [code] = (await exited) as [number | null];
      expect(code).toBe(0);
      expect(output).toContain("worker stopped");
    } finally {
      if (child.exitCode === null) child.kill("SIGKILL");
    }
  });

  it("serves its metrics: attempts by type and outcome, handler durations, and the queues", async () => {
    const main = join(workspaceRoot(), "services/worker/src/main.ts");
    const child: ChildProcess = spawn(process.execPath, ["--conditions=conveyor-source", main], {
      env: {
        ...process.env,
        NATS_URL: fx.server.url,
        WORKER_CONCURRENCY: "1",
        METRICS_PORT: "0",
        METRICS_HOST: "127.0.0.1",
        LOG_LEVEL: "info",
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout?.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.stderr?.on("data", (chunk: Buffer) => (output += chunk.toString()));
    try {
      await waitFor(() => Promise.resolve(output.includes("worker started")), {
        timeoutMs: 20_000,
        message: "the worker process to start",
      });
      const port = /"port":(\d+)[^\n]*metrics served/.exec(output)?.[1];
      expect(port).toBeDefined();
      const scrape = () => scrapeMetrics(String(port));
      const series = (text: string, name: string, labels: Record<string, string>) =>
        metricValue(text, name, { ...labels, service: "worker" });

      for (let i = 0; i < 2; i++) await fx.enqueue("echo", { n: i });
      const flaky = await fx.enqueue("flaky", { failTimes: 1 });
      await fx.eventsUntil(flaky.id, "succeeded");
      // One handler at a time: the first sleep runs while the other two wait.
      for (let i = 0; i < 3; i++) await fx.enqueue("sleep", { ms: 3000 });

      const text = await waitFor(
        async () => {
          const body = await scrape();
          return series(body, "conveyor_queue_jobs", { type: "sleep", state: "waiting" }) === "2"
            ? body
            : undefined;
        },
        { timeoutMs: 10_000, message: "two sleep jobs waiting in the metrics" },
      );
      expect(
        series(text, "conveyor_job_attempts_total", { type: "echo", outcome: "succeeded" }),
      ).toBe("2");
      // Every outcome is served from 0, so that rate() sees the first attempt to end so.
      expect(series(text, "conveyor_job_attempts_total", { type: "echo", outcome: "dead" })).toBe(
        "0",
      );
      expect(series(text, "conveyor_job_attempts_total", { type: "flaky", outcome: "retry" })).toBe(
        "1",
      );
      expect(
        series(text, "conveyor_job_attempts_total", { type: "flaky", outcome: "succeeded" }),
      ).toBe("1");
      expect(
        series(text, "conveyor_job_attempt_duration_seconds_count", {
          type: "echo",
          outcome: "succeeded",
        }),
      ).toBe("2");
      expect(series(text, "conveyor_queue_jobs", { type: "sleep", state: "in_flight" })).toBe("1");
      expect(series(text, "conveyor_queue_jobs", { type: "echo", state: "waiting" })).toBe("0");
      expect(series(text, "conveyor_queue_paused", { type: "echo" })).toBe("0");
      await fx.jsm.consumers.pause(
        StreamName.Work,
        workConsumerName("echo"),
        new Date(Date.now() + 60_000),
      );
      try {
        expect(series(await scrape(), "conveyor_queue_paused", { type: "echo" })).toBe("1");
      } finally {
        await fx.jsm.consumers.resume(StreamName.Work, workConsumerName("echo"));
      }
      expect(text).toMatch(/^process_resident_memory_bytes\{service="worker"\} \d+/m);
    } finally {
      child.kill("SIGKILL");
    }
  });
});
