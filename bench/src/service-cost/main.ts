// Diagnostic: the CPU each service on a job's path spends per no-op job, measured one service at a
// time so that nothing else competes for the cores. On a fresh nats-server with Conveyor's topology
// (no read model): a backlog of bulk submissions is stored, the dispatcher alone routes it into
// `WORK`, then one reference worker alone drains it. Each phase reports the service's and nats-server's CPU
// milliseconds per job and the phase's rate. Steadier than the full workloads for an A/B of one
// service's code, since a phase's CPU per job hardly depends on what else the machine runs.
//
// Usage: node --conditions=conveyor-source bench/src/service-cost/main.ts [jobs, default 50000] [reps, default 3]
//   (builds the services and runs their `nx build` output, as the bench does)
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";

import { JobClient } from "@conveyor/client";
import { StreamName } from "@conveyor/contracts";
import { ServiceCode } from "@conveyor/stack";
import type { ServiceName } from "@conveyor/stack";
import type { ServerProcess } from "@conveyor/testing";
import { ensureTopology } from "@conveyor/topology";
import { jetstreamManager } from "@nats-io/jetstream";
import type { JetStreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";

import { readProcess } from "../metrics/proc-stats.ts";
import { median } from "../report/stats.ts";
import { startNats } from "../servers/nats.ts";
import { buildServices } from "../systems/build-services.ts";
import { startService, workerReadyLine } from "../systems/service-start.ts";

const jobs = Number(process.argv[2] ?? 50_000);
const reps = Number(process.argv[3] ?? 3);
if (!Number.isInteger(jobs) || jobs < 1000) throw new Error("jobs must be an integer >= 1000");
if (!Number.isInteger(reps) || reps < 1) throw new Error("reps must be a positive integer");
/** Jobs per bulk submission, as the saturated workload submits them. */
const bulkSize = 100;
/** A phase that has not finished by then is reported as failed. */
const phaseTimeoutMs = 300_000;

interface PhaseResult {
  /** Jobs per second from the service's first reading to the last job done. */
  rate: number;
  serviceCpuMs: number;
  serverCpuMs: number;
}

async function cpuMs(pid: number | undefined): Promise<number> {
  if (pid === undefined) throw new Error("process has no pid");
  const reading = await readProcess(pid);
  if (reading === undefined) throw new Error(`process ${pid} is gone`);
  return reading.cpuSeconds * 1000;
}

/** Starts a service from its build output and resolves once it printed `readyLine`. */
async function startBuiltService(
  name: ServiceName,
  env: NodeJS.ProcessEnv,
  readyLine: string,
): Promise<ServerProcess> {
  const { process: proc, ready } = startService(
    { name, env, code: ServiceCode.Build },
    name,
    readyLine,
  );
  await ready;
  return proc;
}

async function workMessages(jsm: JetStreamManager): Promise<number> {
  return (await jsm.streams.info(StreamName.Work)).state.messages;
}

/** Measures `proc` and nats-server while `done` is false, polling every 50 ms. */
async function measure(
  proc: ServerProcess,
  server: ServerProcess,
  done: () => Promise<boolean>,
): Promise<PhaseResult> {
  const start = performance.now();
  const [service0, server0] = await Promise.all([cpuMs(proc.pid), cpuMs(server.pid)]);
  while (!(await done())) {
    if (performance.now() - start > phaseTimeoutMs) throw new Error("phase timed out");
    await sleep(50);
  }
  const seconds = (performance.now() - start) / 1000;
  const [service1, server1] = await Promise.all([cpuMs(proc.pid), cpuMs(server.pid)]);
  return {
    rate: jobs / seconds,
    serviceCpuMs: (service1 - service0) / jobs,
    serverCpuMs: (server1 - server0) / jobs,
  };
}

async function runOnce(): Promise<{ dispatcher: PhaseResult; worker: PhaseResult }> {
  const dir = await mkdtemp(join(tmpdir(), "conveyor-service-cost-"));
  const nats = await startNats(join(dir, "store"), "1s");
  const nc = await connect({ servers: nats.url, noAsyncTraces: true });
  try {
    const jsm = await jetstreamManager(nc);
    await ensureTopology(jsm);
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      NATS_URL: nats.url,
      // The ready lines are info lines.
      LOG_LEVEL: "info",
      WORKER_CONCURRENCY: "32",
      METRICS_PORT: undefined,
      // e.g. `--cpu-prof --cpu-prof-dir=/tmp/profiles` to profile both phases.
      NODE_OPTIONS: process.env["SERVICE_COST_NODE_OPTIONS"],
    };
    // The worker registers its types, which the dispatcher looks up.
    const registering = await startBuiltService("worker", env, workerReadyLine);
    await registering.stop(10_000);

    // The backlog is stored before the dispatcher starts, so that it routes alone.
    const client = new JobClient(nc);
    const submissions = Array.from({ length: jobs }, (_, i) => ({
      type: "echo",
      payload: { i },
    }));
    for (let i = 0; i < jobs; i += bulkSize) {
      for (const result of await client.submitBulk(submissions.slice(i, i + bulkSize))) {
        if (!result.ok) throw result.error;
      }
    }
    const dispatcher = await startBuiltService("dispatcher", env, "dispatcher consuming intake");
    const routed = await measure(
      dispatcher,
      nats.process,
      async () => (await workMessages(jsm)) >= jobs,
    );
    await dispatcher.stop(10_000);

    const worker = await startBuiltService("worker", env, workerReadyLine);
    const drained = await measure(
      worker,
      nats.process,
      async () => (await workMessages(jsm)) === 0,
    );
    await worker.stop(10_000);
    return { dispatcher: routed, worker: drained };
  } finally {
    await nc.close();
    await nats.process.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

buildServices((line) => {
  console.log(line);
});
const results: { dispatcher: PhaseResult; worker: PhaseResult }[] = [];
for (let rep = 1; rep <= reps; rep++) {
  const result = await runOnce();
  results.push(result);
  for (const [phase, r] of Object.entries(result)) {
    console.log(
      `rep ${rep} ${phase}: ${Math.round(r.rate)} jobs/s, ${r.serviceCpuMs.toFixed(4)} CPU-ms/job ` +
        `(nats-server ${r.serverCpuMs.toFixed(4)})`,
    );
  }
}
for (const phase of ["dispatcher", "worker"] as const) {
  const of = (pick: (r: PhaseResult) => number) => median(results.map((r) => pick(r[phase])));
  console.log(
    `median ${phase}: ${Math.round(of((r) => r.rate))} jobs/s, ` +
      `${of((r) => r.serviceCpuMs).toFixed(4)} CPU-ms/job (nats-server ${of((r) => r.serverCpuMs).toFixed(4)})`,
  );
}
