// Diagnostic: how long FerretDB takes to insert the projector's batches of job documents, at a
// steady pace, into a `jobs` collection of a given size. The pinned build runs on its own (no
// other load, niceness 0) with the indexes ensureIndexes makes there (only `_id`'s: FerretDB cannot
// use the list indexes, so none are made); each batch of 50 succeeded-job documents
// (ids generated as the gateway generates them: UUIDv7, in time order) is inserted with one unordered bulk write, as the projector inserts them, followed by a pause.
// Prints the batches' latency percentiles, the largest size its write-ahead log reached (what
// SQLite's checkpoints cost the writes they run in, bench/README.md "What changed") and the
// server's CPU time per document.
//
// Usage: node --conditions=conveyor-source bench/src/read-model-inserts/main.ts
//          [documents already there, 0] [batches, 3000] [pause after each batch in ms, 20]
import { randomUUID } from "node:crypto";
import { mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";

import { newJobId } from "@conveyor/contracts";
import type { JobDocument } from "@conveyor/read-model";
import { ensureIndexes, jobsCollection, toStoredJob } from "@conveyor/read-model";
import { MongoClient } from "mongodb";

import { createLatencyHistogram } from "../load/latency-histogram.ts";
import { readProcess } from "../metrics/proc-stats.ts";
import { startFerretdb } from "../servers/ferretdb.ts";

const batchSize = 50;
const [prefill = 0, batches = 3000, pauseMs = 20] = process.argv.slice(2).map(Number);

/** A no-op job's document once it has succeeded, as the projector stores it. */
function succeededJob(): JobDocument {
  const now = new Date().toISOString();
  return toStoredJob({
    _id: newJobId(),
    type: "echo",
    status: "succeeded",
    run: 1,
    attempt: 1,
    payload: { n: 1 },
    maxAttempts: 5,
    source: "nats",
    queuedRun: 1,
    attempts: [
      {
        run: 1,
        attempt: 1,
        workerId: "worker-7f9c2d-1",
        startedAt: now,
        finishedAt: now,
        durationMs: 0,
        outcome: "succeeded",
      },
    ],
    result: { n: 1 },
    submittedAt: now,
    startedAt: now,
    finishedAt: now,
    updatedAt: now,
    traceId: randomUUID().replaceAll("-", ""),
  });
}

const dataDir = await mkdtemp(join(tmpdir(), "read-model-inserts-"));
const server = await startFerretdb({ dataDir, niceness: 0 });
const client = new MongoClient(server.url);
try {
  const db = client.db("conveyor");
  await ensureIndexes(db);
  const jobs = jobsCollection(db);
  const insertBatch = () =>
    jobs.bulkWrite(
      Array.from({ length: batchSize }, () => ({ insertOne: { document: succeededJob() } })),
      { ordered: false },
    );
  for (let stored = 0; stored < prefill; stored += batchSize) await insertBatch();

  const wal = join(dataDir, "conveyor.sqlite-wal");
  let largestLog = 0;
  const histogram = createLatencyHistogram();
  const serverCpu = async () => (await readProcess(server.process.pid ?? 0))?.cpuSeconds ?? NaN;
  const cpuBefore = await serverCpu();
  const started = performance.now();
  for (let i = 0; i < batches; i++) {
    const t = performance.now();
    await insertBatch();
    histogram.record(performance.now() - t);
    largestLog = Math.max(largestLog, (await stat(wal).catch(() => undefined))?.size ?? 0);
    await sleep(pauseMs);
  }
  const seconds = (performance.now() - started) / 1000;
  const cpuMsPerDocument = (((await serverCpu()) - cpuBefore) * 1000) / (batches * batchSize);
  const at = (p: number) => histogram.percentileMs(p).toFixed(1);
  console.log(
    `${batches} batches of ${batchSize} into ${prefill} documents, ${pauseMs} ms apart, in ` +
      `${seconds.toFixed(1)} s: p50 ${at(50)}, p90 ${at(90)}, p99 ${at(99)}, p99.9 ${at(99.9)}, ` +
      `max ${at(100)} ms; write-ahead log file at most ${(largestLog / 2 ** 20).toFixed(0)} MiB; ` +
      `server CPU ${cpuMsPerDocument.toFixed(3)} ms per document`,
  );
} finally {
  await client.close();
  await server.process.stop();
  await rm(dataDir, { recursive: true, force: true });
}
