// A BullMQ worker process for the bench: the way BullMQ's docs set one up (a Worker on the queue
// with `concurrency`), with the bench's two handlers: `echo` returns the job's data, `sleep` waits
// `data.ms` first. It reports handler starts and ends to the bench over IPC while asked to.
import { setTimeout as sleep } from "node:timers/promises";

import { Worker } from "bullmq";

import { parseEnv } from "@conveyor/service-kit";

import { benchQueueName, bullmqChildEnv, ParentMessage } from "./bullmq-protocol.ts";
import type { ChildMessage } from "./bullmq-protocol.ts";

const env = parseEnv(bullmqChildEnv);
let watching = env.WATCH_STARTS;
let starts: [string, number][] = [];
let ends: [string, number][] = [];

const send = (message: ChildMessage) => {
  if (process.connected) process.send?.(message);
};

process.on("message", (raw) => {
  const parsed = ParentMessage.safeParse(raw);
  if (parsed.success) watching = parsed.data.watch;
});

/**
 * Reports are sent at most `reportDelayMs` after they are taken, together with those taken
 * meanwhile. The bench starts reading a job's state when its report arrives, so whatever a report
 * waits here counts in BullMQ's "succeeded visible" and read-model figures (a 10 ms interval added up
 * to 10 ms to each); one message per report would cost the worker a pipe write per job.
 */
const reportDelayMs = 1;
let flush: NodeJS.Timeout | undefined;

function flushReports(): void {
  flush = undefined;
  if (starts.length === 0 && ends.length === 0) return;
  send({ starts, ends });
  starts = [];
  ends = [];
}

function report(into: [string, number][], id: string, at: number): void {
  into.push([id, at]);
  flush ??= setTimeout(flushReports, reportDelayMs);
}

const worker = new Worker(
  benchQueueName,
  async (job) => {
    const at = Date.now();
    const watched = watching !== 0 ? job.id : undefined;
    if (watched !== undefined) {
      report(starts, watched, at);
      if (watching > 0) watching--;
    }
    if (job.name === "sleep") await sleep((job.data as { ms: number }).ms);
    // Returning hands the job to BullMQ to move to `completed`, as a Conveyor worker acks.
    if (watched !== undefined) report(ends, watched, Date.now());
    return job.data as unknown;
  },
  { connection: { host: env.REDIS_HOST, port: env.REDIS_PORT }, concurrency: env.CONCURRENCY },
);
worker.on("error", (err) => {
  process.stderr.write(`worker error: ${err.message}\n`);
});

let stopping = false;
async function stop(): Promise<void> {
  if (stopping) return;
  stopping = true;
  await worker.close();
  clearTimeout(flush);
  flushReports();
  process.exit(0);
}
process.on("SIGTERM", () => void stop());
process.on("SIGINT", () => void stop());
process.on("disconnect", () => void stop());

await worker.waitUntilReady();
send({ ready: true });
