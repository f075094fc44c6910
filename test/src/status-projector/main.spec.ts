import { spawn } from "node:child_process";
import type { ChildProcessByStdio } from "node:child_process";
import { once } from "node:events";
import type { Readable } from "node:stream";
import { fileURLToPath } from "node:url";

import { findJob, serverUsesListIndexes } from "@conveyor/read-model";
import {
  freePort,
  startMongoServer,
  startNatsServer,
  uniqueName,
  waitFor,
} from "@conveyor/testing";
import { ensureTopology } from "@conveyor/topology";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { MongoClient } from "mongodb";
import { describe, expect, it } from "vitest";

import { metricValue, scrapeMetrics } from "../support/prometheus.ts";
import { jobHistory, publishEvents } from "./events.ts";

const mainPath = fileURLToPath(
  import.meta.resolve("@conveyor/status-projector").replace(/index\.ts$/, "main.ts"),
);

function startMain(env: Record<string, string>) {
  const child: ChildProcessByStdio<null, Readable, Readable> = spawn(
    process.execPath,
    ["--conditions=conveyor-source", mainPath],
    { env: { PATH: process.env["PATH"], ...env }, stdio: ["ignore", "pipe", "pipe"] },
  );
  const output = { text: "" };
  for (const stream of [child.stdout, child.stderr]) {
    stream.on("data", (chunk: Buffer) => (output.text += chunk.toString()));
  }
  const exited = once(child, "exit") as Promise<[number | null]>;
  return { child, output, exited };
}

/**
 * Starts main with `env`, runs `check` while it runs, then stops it with SIGTERM: it exits 0.
 * Resolves with what it wrote.
 */
async function whileMainRuns(
  env: Record<string, string>,
  check: (main: ReturnType<typeof startMain>) => Promise<void>,
): Promise<string> {
  const main = startMain(env);
  try {
    await check(main);
  } finally {
    main.child.kill("SIGTERM");
  }
  const [code] = await main.exited;
  expect(code, main.output.text).toBe(0);
  return main.output.text;
}

describe("status-projector main", () => {
  it("projects from its environment after verifying the topology, serves its metrics, and exits 0 on SIGTERM", async () => {
    await using nats = await startNatsServer();
    await using mongo = await startMongoServer();
    const nc = await connect({ servers: nats.url });
    const client = await MongoClient.connect(mongo.url);
    const dbName = uniqueName("projector_main");
    try {
      await ensureTopology(await jetstreamManager(nc));
      const metricsPort = await freePort();
      await whileMainRuns(
        {
          NATS_URL: nats.url,
          MONGO_URL: mongo.url,
          MONGO_DB: dbName,
          PROJECTOR_BATCH_SIZE: "50",
          METRICS_PORT: String(metricsPort),
          METRICS_HOST: "127.0.0.1",
          LOG_LEVEL: "info",
        },
        async (main) => {
          await publishEvents(jetstream(nc), jobHistory("job-main"));
          const doc = await waitFor(() => findJob(client.db(dbName), "job-main"), {
            timeoutMs: 30_000,
            message: "job projected by main",
          });
          expect(doc.status).toBe("succeeded");
          const indexes = await client.db(dbName).collection("jobs").indexes();
          const usable = await serverUsesListIndexes(client.db(dbName));
          expect(indexes.map((i) => i.name)).toEqual(
            usable ? expect.arrayContaining(["_id_", "type_status_id"]) : ["_id_"],
          );
          // Writes name their revision only where a filter beside `_id` is served by index.
          expect(main.output.text).toContain(`"fenceRevisions":${String(usable)}`);
          // Once every event is acknowledged, the read model is behind by nothing.
          const mailbox = (text: string, stream: string, consumer: string, state: string) =>
            metricValue(text, "conveyor_mailbox_messages", {
              stream,
              consumer,
              state,
              service: "status-projector",
            });
          const metrics = await waitFor(
            async () => {
              const text = await scrapeMetrics(metricsPort);
              return mailbox(text, "EVENTS", "status-projector", "unacknowledged") === "0"
                ? text
                : undefined;
            },
            { timeoutMs: 10_000, message: "the events acknowledged in the metrics" },
          );
          expect(mailbox(metrics, "EVENTS", "status-projector", "pending")).toBe("0");
          expect(mailbox(metrics, "DLQ", "status-projector-dlq", "pending")).toBe("0");
          expect(metrics).toMatch(/^nodejs_heap_size_used_bytes\{service="status-projector"\} /m);
        },
      );
    } finally {
      await client.close();
      await nc.close();
    }
  });

  it("rebuilds into another database from consumers of its own (PROJECTOR_CONSUMER), leaving the live projector's alone", async () => {
    await using nats = await startNatsServer();
    await using mongo = await startMongoServer();
    const nc = await connect({ servers: nats.url });
    const client = await MongoClient.connect(mongo.url);
    const dbName = uniqueName("projector_rebuild");
    try {
      const jsm = await jetstreamManager(nc);
      await ensureTopology(jsm);
      // Events from before the rebuild started: a consumer created now reads them from the start.
      await publishEvents(jetstream(nc), jobHistory("job-before-rebuild"));
      await whileMainRuns(
        {
          NATS_URL: nats.url,
          MONGO_URL: mongo.url,
          MONGO_DB: dbName,
          PROJECTOR_CONSUMER: "status-projector-rebuild",
          PROJECTOR_DLQ_CONSUMER: "status-projector-dlq-rebuild",
          LOG_LEVEL: "info",
        },
        async () => {
          const doc = await waitFor(() => findJob(client.db(dbName), "job-before-rebuild"), {
            timeoutMs: 30_000,
            message: "job projected by the rebuilding projector",
          });
          expect(doc.status).toBe("succeeded");
          const rebuild = await jsm.consumers.info("DLQ", "status-projector-dlq-rebuild");
          expect(rebuild.config.filter_subjects).toEqual(
            (await jsm.consumers.info("DLQ", "status-projector-dlq")).config.filter_subjects,
          );
          // The live projector's consumer still has every event for it.
          const live = await jsm.consumers.info("EVENTS", "status-projector");
          expect(live.num_pending).toBe(jobHistory("job-before-rebuild").length);
        },
      );
    } finally {
      await client.close();
      await nc.close();
    }
  });

  it("deletes from the read model what has outlived the ages its environment sets", async () => {
    await using nats = await startNatsServer();
    await using mongo = await startMongoServer();
    const nc = await connect({ servers: nats.url });
    const client = await MongoClient.connect(mongo.url);
    const db = client.db(uniqueName("projector_retention"));
    try {
      await ensureTopology(await jetstreamManager(nc));
      const output = await whileMainRuns(
        {
          NATS_URL: nats.url,
          MONGO_URL: mongo.url,
          MONGO_DB: db.databaseName,
          PROJECTOR_NEW_JOB_DEFER_MS: "0",
          FINISHED_JOBS_MAX_AGE_HOURS: "24",
          // Shorter than the DLQ keeps letters (30 days, read from the stream): raised to that.
          DEAD_JOBS_MAX_AGE_HOURS: "1",
          READ_MODEL_SWEEP_INTERVAL_MS: "100",
          LOG_LEVEL: "info",
        },
        async (main) => {
          const longAgo = Date.UTC(2025, 0, 1);
          const twoDaysAgo = Date.now() - 2 * 86_400_000;
          await publishEvents(jetstream(nc), [
            ...jobHistory("finished-long-ago", {}, longAgo),
            ...jobHistory("dead-long-ago", { end: "dead" }, longAgo),
            ...jobHistory("dead-two-days-ago", { end: "dead" }, twoDaysAgo),
            ...jobHistory("running-long-ago", {}, longAgo).slice(0, 2),
            ...jobHistory("finished-now", {}, Date.now() - 60_000),
          ]);
          await waitFor(() => findJob(db, "finished-now"), { message: "recent job projected" });
          await waitFor(() => findJob(db, "dead-two-days-ago"), { message: "dead job projected" });
          await waitFor(
            async () =>
              (await findJob(db, "finished-long-ago")) === null &&
              (await findJob(db, "dead-long-ago")) === null,
            { timeoutMs: 30_000, message: `old jobs deleted; output: ${main.output.text}` },
          );
          // A dead job two days old is kept (30 days and a day, not the hour asked for), and an
          // unfinished job however old.
          expect(await findJob(db, "dead-two-days-ago")).toMatchObject({ status: "dead" });
          expect(await findJob(db, "running-long-ago")).toMatchObject({ status: "running" });
        },
      );
      expect(output).toContain("expired read-model documents deleted");
      expect(output).toContain("dead jobs are kept as long as the DLQ keeps their letters");
    } finally {
      await client.close();
      await nc.close();
    }
  });

  it("exits 1 naming a bad variable", async () => {
    const main = startMain({ PROJECTOR_BATCH_SIZE: "none" });
    const [code] = await main.exited;
    expect(code).toBe(1);
    expect(main.output.text).toContain("PROJECTOR_BATCH_SIZE");
  });

  it("exits 1 naming what is missing when the topology is not provisioned within TOPOLOGY_WAIT_MS", async () => {
    await using nats = await startNatsServer();
    const main = startMain({
      NATS_URL: nats.url,
      MONGO_URL: "mongodb://127.0.0.1:1",
      TOPOLOGY_WAIT_MS: "1500",
    });
    const [code] = await main.exited;
    expect(code).toBe(1);
    expect(main.output.text).toContain("EVENTS");
  });

  it("exits 1 naming the consumer when its consumer is deleted while it runs", async () => {
    await using nats = await startNatsServer();
    await using mongo = await startMongoServer();
    const nc = await connect({ servers: nats.url });
    try {
      const jsm = await jetstreamManager(nc);
      await ensureTopology(jsm);
      const main = startMain({
        NATS_URL: nats.url,
        MONGO_URL: mongo.url,
        MONGO_DB: uniqueName("projector_gone"),
        LOG_LEVEL: "warn",
      });
      try {
        await waitFor(
          async () => (await jsm.consumers.info("EVENTS", "status-projector")).num_waiting > 0,
          { timeoutMs: 30_000, message: "projector pulling" },
        );
        await jsm.consumers.delete("EVENTS", "status-projector");
        const [code] = await Promise.race([
          main.exited,
          new Promise<[string]>((resolve) => setTimeout(resolve, 20_000, ["still running"])),
        ]);
        expect(code, main.output.text).toBe(1);
        expect(main.output.text).toContain("consumer status-projector on stream EVENTS");
      } finally {
        main.child.kill("SIGKILL");
      }
    } finally {
      await nc.close();
    }
  });
});
