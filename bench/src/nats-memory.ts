// Diagnostic: how nats-server's memory grows with the jobs Conveyor's streams remember, apart from
// any backlog. Starts the pinned nats-server (as the bench does), provisions Conveyor's streams,
// and stores what a finished job leaves behind, in three separate steps, reading the server's RSS
// after each:
//
// - EVENTS: a `queued` and a `succeeded` event on the job's own subjects (`events.<id>.<kind>`),
//   without message ids, so only the per-subject index grows (kept for the stream's 7 days);
// - JOBS: the submission with its `Nats-Msg-Id` (kept for the stream's 7 days, its id for the
//   1-hour duplicate window);
// - WORK: the work item with its `Nats-Msg-Id`, the stream purged after each chunk as workers
//   would empty it, so only the id in the 1-hour duplicate window stays.
//
// RSS is read right after each step and again once the server has had `settleMs` to drop its caches
// of recently written message blocks; Go's heap keeps some headroom above what is live (GOGC).
//
// Usage: node --conditions=conveyor-source bench/src/nats-memory.ts [jobs per step, default 500000]
import { mkdtemp, rm } from "node:fs/promises";
import { setTimeout as sleep } from "node:timers/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { StreamName } from "@conveyor/contracts";
import { ensureTopology } from "@conveyor/topology";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import type { PubAck } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";

import { readProcess } from "./metrics/proc-stats.ts";
import { startNats } from "./servers/nats.ts";

const jobs = Number(process.argv[2] ?? 500_000);
if (!Number.isInteger(jobs) || jobs < 1000) throw new Error("jobs per step must be >= 1000");
const chunk = 1000;
/** How long the server gets after a step before its RSS is read again, in milliseconds. */
const settleMs = 30_000;
/**
 * A 26-character job id: shorter than the 36-character UUIDv7 the dispatcher generates when a
 * submission names none, so the EVENTS figure is a floor for such ids.
 */
const jobId = (step: string, n: number) => `${step}${String(n).padStart(25, "0")}`;
const body = JSON.stringify({ kind: "queued", type: "bench.noop", payload: {}, at: new Date() });

const dir = await mkdtemp(join(tmpdir(), "conveyor-nats-memory-"));
const nats = await startNats(join(dir, "store"), "1s");
const nc = await connect({ servers: nats.url, noAsyncTraces: true });
try {
  const jsm = await jetstreamManager(nc);
  await ensureTopology(jsm);
  const js = jetstream(nc);
  const rssMib = async () => ((await readProcess(nats.process.pid ?? 0))?.rssKib ?? 0) / 1024;
  const perJob = (from: number, to: number) => (((to - from) * 1024 * 1024) / jobs).toFixed(0);
  /** Reports the RSS a step added, right after it and settled; returns the settled RSS. */
  const report = async (label: string, before: number): Promise<number> => {
    const at = await rssMib();
    await sleep(settleMs);
    const settled = await rssMib();
    process.stdout.write(
      `${label}: RSS ${before.toFixed(0)} -> ${at.toFixed(0)} MiB (${perJob(before, at)} bytes per job), ` +
        `${settled.toFixed(0)} MiB after ${settleMs / 1000} s (${perJob(before, settled)} bytes per job)\n`,
    );
    return settled;
  };

  let before = await rssMib();
  await publishAll((n) => [
    js.publish(`events.${jobId("e", n)}.queued`, body),
    js.publish(`events.${jobId("e", n)}.succeeded`, body),
  ]);
  before = await report("EVENTS, two per-job subjects, no ids", before);

  await publishAll((n) => [js.publish("jobs.submit.bench.noop", body, { msgID: jobId("j", n) })]);
  before = await report("JOBS, submission with Nats-Msg-Id", before);

  await publishAll(
    (n) => [js.publish("work.bench.noop", body, { msgID: `${jobId("w", n)}:1` })],
    () => jsm.streams.purge(StreamName.Work).then(() => undefined),
  );
  await report("WORK, work item id only (stream purged)", before);
} finally {
  await nc.close();
  await nats.process.stop();
  await rm(dir, { recursive: true, force: true });
}

/** Publishes `jobs` jobs' messages, a chunk at a time, after each chunk running `afterChunk`. */
async function publishAll(
  publishJob: (n: number) => Promise<PubAck>[],
  afterChunk: () => Promise<void> = () => Promise.resolve(),
): Promise<void> {
  for (let start = 0; start < jobs; start += chunk) {
    const acks: Promise<PubAck>[] = [];
    for (let n = start; n < start + chunk; n++) acks.push(...publishJob(n));
    await Promise.all(acks);
    await afterChunk();
  }
}
