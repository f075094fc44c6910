// Diagnostic: the ceiling of Conveyor's messaging design on this machine. It runs the path of a
// no-op job (submission -> dispatcher -> work item -> worker -> events -> projector) on the pinned
// nats-server with Conveyor's topology, but with roles that only pass messages (roles.ts): no
// validation, tracing, logging, read model or FerretDB. Whatever throughput it reaches is the most
// the services could reach with the same messages per job; the other modes show what fewer event
// messages would allow (event-mode.ts). Each run gets a fresh server.
//
// Usage: node --conditions=conveyor-source bench/src/ceiling/main.ts [jobs, default 50000] [reps, default 3]
//   [single|bulk, default single: a message per submission, or bulks of 100 as the saturated workload]
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";

import { Subject } from "@conveyor/contracts";
import { ensureTopology, ensureWorkConsumer } from "@conveyor/topology";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";

import { readProcess } from "../metrics/proc-stats.ts";
import { median } from "../report/stats.ts";
import { startNats } from "../servers/nats.ts";
import { forkChild } from "../systems/node-child.ts";
import type { NodeChild } from "../systems/node-child.ts";
import { ceilingJobType, eventModes, parseSubmitMode, projectorMailboxes } from "./event-mode.ts";
import type { EventMode } from "./event-mode.ts";
import { useWorkAsQueued } from "./work-as-queued.ts";

const jobs = Number(process.argv[2] ?? 50_000);
const reps = Number(process.argv[3] ?? 3);
const submitMode = parseSubmitMode(process.argv[4] ?? "single");
if (!Number.isInteger(jobs) || jobs < 1000) throw new Error("jobs must be an integer >= 1000");
if (!Number.isInteger(reps) || reps < 1) throw new Error("reps must be a positive integer");
/** Submissions in flight at once, as the bench's saturated workload submits. */
const submitBatch = 100;
const rolesEntry = new URL("./roles.ts", import.meta.url).pathname;

interface RunResult {
  /** Jobs acknowledged by the worker per second, from the first submission. */
  acked: number;
  /** Jobs whose events the projector acknowledged per second (`none`: the acked rate). */
  projected: number;
  /** CPU milliseconds per job of nats-server and of the roles together. */
  serverCpuMs: number;
  rolesCpuMs: number;
}

async function cpuSeconds(pids: readonly number[]): Promise<number> {
  const readings = await Promise.all(pids.map((pid) => readProcess(pid)));
  return readings.reduce((sum, reading) => sum + (reading?.cpuSeconds ?? 0), 0);
}

async function runOnce(mode: EventMode): Promise<RunResult> {
  const dir = await mkdtemp(join(tmpdir(), "conveyor-ceiling-"));
  const nats = await startNats(join(dir, "store"), "1s");
  const nc = await connect({ servers: nats.url, noAsyncTraces: true });
  const children: NodeChild[] = [];
  try {
    const jsm = await jetstreamManager(nc);
    await ensureTopology(jsm);
    await ensureWorkConsumer(jsm, ceilingJobType);
    if (mode === "work-as-queued") await useWorkAsQueued(jsm);
    const done = new Map<string, number>();
    const names = mode === "none" ? ["intake", "worker"] : ["intake", "worker", "projector"];
    for (const name of names) {
      const child = forkChild(name, rolesEntry, {
        ...process.env,
        NATS_URL: nats.url,
        CEILING_ROLE: name,
        CEILING_EVENTS: mode,
        CEILING_SUBMIT: submitMode,
      });
      child.onMessage((message) => done.set(name, (message as { done: number }).done));
      children.push(child);
    }
    while (done.size < names.length) await sleep(20);

    const pids = children.map((child) => child.pid ?? 0);
    const serverPid = nats.process.pid ?? 0;
    const cpuBefore = { server: await cpuSeconds([serverPid]), roles: await cpuSeconds(pids) };
    const js = jetstream(nc);
    const start = performance.now();
    for (let i = 0; i < jobs; i += submitBatch) {
      const envelopes = [];
      for (let n = i; n < Math.min(jobs, i + submitBatch); n++) {
        envelopes.push({ id: `ceiling-${String(n).padStart(8, "0")}`, payload: { n } });
      }
      if (submitMode === "bulk") {
        const body = JSON.stringify({ jobs: envelopes });
        await js.publish(Subject.submitBulk(ceilingJobType), body, { msgID: `bulk-${i}` });
        continue;
      }
      await Promise.all(
        envelopes.map((envelope) =>
          js.publish(Subject.submit(ceilingJobType), JSON.stringify(envelope), {
            msgID: envelope.id,
          }),
        ),
      );
    }
    while ((done.get("worker") ?? 0) < jobs) await sleep(5);
    const ackedS = (performance.now() - start) / 1000;
    let projectedS = ackedS;
    if (mode !== "none") {
      for (const [stream, consumer] of projectorMailboxes(mode)) {
        for (;;) {
          const info = await jsm.consumers.info(stream, consumer);
          if (info.num_pending === 0 && info.num_ack_pending === 0) break;
          await sleep(10);
        }
      }
      projectedS = (performance.now() - start) / 1000;
    }
    const serverCpu = (await cpuSeconds([serverPid])) - cpuBefore.server;
    const rolesCpu = (await cpuSeconds(pids)) - cpuBefore.roles;
    return {
      acked: jobs / ackedS,
      projected: jobs / projectedS,
      serverCpuMs: (serverCpu * 1000) / jobs,
      rolesCpuMs: (rolesCpu * 1000) / jobs,
    };
  } finally {
    await Promise.all(children.map((child) => child.stop(2000)));
    await nc.close();
    await nats.process.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

const results = new Map<EventMode, RunResult[]>(eventModes.map((mode) => [mode, []]));
for (let rep = 0; rep < reps; rep++) {
  // Alternating the order, as the bench does with its systems.
  const order = rep % 2 === 0 ? eventModes : [...eventModes].reverse();
  for (const mode of order) {
    const result = await runOnce(mode);
    results.get(mode)?.push(result);
    process.stdout.write(
      `${mode} #${rep + 1}: acked ${result.acked.toFixed(0)} jobs/s, projected ${result.projected.toFixed(0)}, ` +
        `nats-server ${result.serverCpuMs.toFixed(3)} CPU-ms/job, roles ${result.rolesCpuMs.toFixed(3)}\n`,
    );
  }
}
process.stdout.write(
  `\n${jobs} jobs submitted ${submitMode === "bulk" ? "in bulks of 100" : "one by one"}, median of ${reps}:\n`,
);
process.stdout.write(
  "| events | acked jobs/s | projected jobs/s | nats-server CPU-ms/job | roles CPU-ms/job |\n",
);
process.stdout.write("|---|--:|--:|--:|--:|\n");
for (const [mode, runs] of results) {
  const m = (pick: (r: RunResult) => number) => median(runs.map(pick));
  process.stdout.write(
    `| ${mode} | ${m((r) => r.acked).toFixed(0)} | ${m((r) => r.projected).toFixed(0)} | ` +
      `${m((r) => r.serverCpuMs).toFixed(3)} | ${m((r) => r.rolesCpuMs).toFixed(3)} |\n`,
  );
}
