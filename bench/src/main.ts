// `npm run bench`: Conveyor against BullMQ on this machine. Starts its own servers (the pinned
// nats-server and FerretDB, provisioned into .tools/bin as `npm run provision` does, and Redis
// from Debian's package) on free loopback ports, runs Conveyor's four services and BullMQ's
// workers as processes, runs every workload on both systems in turns, prints the comparison and
// writes JSON, Markdown and an SVG chart to bench/results/. See bench/README.md.
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { defaultReadModelNiceness, provisionBenchTools, ServiceCode } from "@conveyor/stack";
import { workspaceRoot } from "@conveyor/testing";

import { parseCli, usage } from "./cli.ts";
import { RedisMissingError, UsageError } from "./errors.ts";
import { profile } from "./profiles.ts";
import { machineInfo, machineSummary } from "./report/machine.ts";
import { renderMarkdown, writeResults } from "./report/results-writer.ts";
import type { RunReport } from "./report/results-writer.ts";
import { aggregate, runWorkloads } from "./runner.ts";
import { ensureRedisBinary } from "./servers/redis.ts";
import { buildServices } from "./systems/build-services.ts";
import { startBullmq } from "./systems/bullmq.ts";
import { startConveyor } from "./systems/conveyor.ts";
import type { BenchJob } from "./systems/system.ts";
import { warmUp } from "./warm-up.ts";
import type { WorkloadContext } from "./workloads/workload.ts";

const log = (line: string) => {
  process.stdout.write(`${line}\n`);
};

async function main(): Promise<number> {
  const cli = parseCli(process.argv.slice(2));
  if (cli.help) {
    log(usage);
    return 0;
  }
  const plan = profile(cli.mode, { million: cli.million });
  const workloads =
    cli.only.length === 0
      ? plan.workloads
      : plan.workloads.filter((w) => cli.only.some((prefix) => w.id.startsWith(prefix)));
  if (workloads.length === 0)
    throw new UsageError(`--only ${cli.only.join(",")} matches no workload`);
  const repetitions = cli.repetitions ?? plan.repetitions;
  // Only a complete run with enough repetitions replaces the committed latest results.
  const complete =
    cli.only.length === 0 &&
    repetitions >= plan.repetitions &&
    !cli.withoutProjector &&
    cli.readModelNiceness === defaultReadModelNiceness;

  const resultsDir = join(workspaceRoot(), "bench", "results");
  const stamp = new Date().toISOString().replaceAll(":", "-").replace(/\..+$/, "");
  const profileDir = join(resultsDir, "tmp", "profiles", stamp);
  // BENCH_NODE_OPTIONS reaches every Node process of both systems (e.g. `--trace-gc`, `--import`
  // of a GC watcher); the bench's own NODE_OPTIONS does not, so it can be tuned on its own.
  const nodeOptions = [
    process.env.BENCH_NODE_OPTIONS ?? "",
    cli.cpuProf ? `--cpu-prof --cpu-prof-dir=${profileDir}` : "",
  ]
    .join(" ")
    .trim();
  // The pinned servers and vegeta into .tools/bin, built with Go when missing (quick when current).
  await provisionBenchTools({ log });
  const redisBinary = ensureRedisBinary(log);
  if (!cli.fromSource) buildServices(log);
  const machine = machineInfo();
  const startedAt = new Date();
  const started = performance.now();
  log(
    `Conveyor vs BullMQ, ${cli.mode} run: ${workloads.length} workloads x ${repetitions} repetitions x 2 systems`,
  );
  log(machineSummary(machine));

  const dataDir = await mkdtemp(join(tmpdir(), "conveyor-bench-"));
  const cleanup = new AsyncDisposableStack();
  cleanup.defer(() => rm(dataDir, { recursive: true, force: true }));
  const interrupted = new Promise<never>((_, reject) => {
    // Ctrl-C or a `kill`: stop every server and service the run started, like at its end.
    for (const signal of ["SIGINT", "SIGTERM"] as const) {
      process.once(signal, () => {
        reject(new Error(`interrupted (${signal})`));
      });
    }
  });
  interrupted.catch(() => {});
  try {
    const [conveyor, bullmq] = await Promise.race([
      Promise.all([
        startConveyor({
          dataDir: join(dataDir, "conveyor"),
          workerConcurrency: plan.workerConcurrency,
          logLevel: cli.logLevel,
          natsSyncInterval: cli.natsSync,
          code: cli.fromSource ? ServiceCode.Source : ServiceCode.Build,
          nodeOptions,
          readModel: !cli.withoutProjector,
          readModelNiceness: cli.readModelNiceness,
          serverPprof: cli.serverPprof,
          log,
        }).then((s) => cleanup.use(s)),
        startBullmq({
          dataDir: join(dataDir, "bullmq"),
          redisBinary,
          workerConcurrency: plan.workerConcurrency,
          nodeOptions,
          log,
        }).then((s) => cleanup.use(s)),
      ]),
      interrupted,
    ]);
    let sequence = 0;
    const runTag = Date.now().toString(36);
    const context: WorkloadContext = {
      jobs: (n, kind, payload) =>
        Array.from({ length: n }, (): BenchJob => ({
          id: `b${runTag}-${++sequence}`,
          kind,
          payload,
        })),
      log,
      timeoutMs: plan.timeoutMs,
      catchUpMs: plan.catchUpMs,
    };
    const systems = { conveyor, bullmq };
    await Promise.race([
      warmUp(systems, context, {
        jobs: plan.warmUpJobs,
        batch: plan.batch,
        httpRequests: plan.warmUpHttpRequests,
      }),
      interrupted,
    ]);
    const runs = await Promise.race([
      runWorkloads({ workloads, repetitions, systems, context, log }),
      interrupted,
    ]);
    const report: RunReport = {
      mode: cli.mode,
      startedAt: startedAt.toISOString(),
      durationS: (performance.now() - started) / 1000,
      repetitions,
      workerConcurrency: plan.workerConcurrency,
      machine,
      workloads: runs,
      results: aggregate(runs),
    };
    log(`\n${renderMarkdown(report)}`);
    if (cli.cpuProf) {
      // Profiles are named by pid; this says which process each pid was.
      await mkdir(profileDir, { recursive: true });
      const names = [...conveyor.processes(), ...bullmq.processes()].map(
        (p) => `${p.pid} ${p.name}`,
      );
      await writeFile(join(profileDir, "processes.txt"), `${names.join("\n")}\n`);
    }
    const written = [
      ...(complete ? await writeResults(report, resultsDir, `latest-${cli.mode}`) : []),
      ...(await writeResults(report, join(resultsDir, "tmp"), `${stamp}-${cli.mode}`)),
    ];
    log(`written: ${written.map((p) => p.slice(workspaceRoot().length + 1)).join(", ")}`);
    return runs.some((r) => r.errors.length > 0) ? 1 : 0;
  } finally {
    log("stopping both systems");
    await cleanup.disposeAsync();
    if (cli.cpuProf) log(`CPU profiles: ${profileDir}`);
  }
}

let exitCode = 1;
try {
  exitCode = await main();
} catch (err) {
  const known = err instanceof UsageError || err instanceof RedisMissingError;
  process.stderr.write(
    `bench failed: ${known ? err.message : err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
  );
  if (err instanceof UsageError) process.stderr.write(`\n${usage}\n`);
}
// Client libraries may keep timers after closing; the run is over.
process.exit(exitCode);
