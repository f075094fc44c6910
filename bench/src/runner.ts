import { PartialSampleError } from "./errors.ts";
import { SystemName, systemNames } from "./report/figures.ts";
import type { FigureResult, FigureSpec, Sample } from "./report/figures.ts";
import { ratio } from "./report/ratio.ts";
import { summarize } from "./report/stats.ts";
import type { SystemDriver } from "./systems/system.ts";
import type { Workload, WorkloadContext } from "./workloads/workload.ts";

/** Every repetition of one workload on both systems. */
export interface WorkloadRun {
  id: string;
  title: string;
  description: string;
  figures: readonly FigureSpec[];
  samples: Record<SystemName, Sample[]>;
  /** Repetitions that failed, with the reason. */
  errors: string[];
  /** What was still catching up after the workload (Conveyor's read model), per system. */
  notes: string[];
}

/**
 * Which system goes first in repetition `rep` of the `workloadIndex`-th workload: they take turns,
 * so neither always runs on a machine the other has just warmed (or left busy).
 */
export function systemOrder(workloadIndex: number, rep: number): SystemName[] {
  return (workloadIndex + rep) % 2 === 0
    ? [SystemName.Conveyor, SystemName.BullMQ]
    : [SystemName.BullMQ, SystemName.Conveyor];
}

/** Summarizes every figure of every workload: median, min and max per system, and the ratio. */
export function aggregate(runs: readonly WorkloadRun[]): FigureResult[] {
  return runs.flatMap((run) =>
    run.figures.map((figure) => {
      // A per-process figure belongs to one system: both have a `worker`, under the same key.
      const values = (system: SystemName) =>
        figure.only !== undefined && figure.only !== system
          ? []
          : run.samples[system].map((s) => s[figure.key] ?? Number.NaN);
      const conveyor = summarize(values(SystemName.Conveyor));
      const bullmq = summarize(values(SystemName.BullMQ));
      return {
        workload: run.id,
        figure,
        conveyor,
        bullmq,
        ratio: figure.only === undefined ? ratio(conveyor.median, bullmq.median) : undefined,
      };
    }),
  );
}

/** Options of {@link runWorkloads}. */
export interface RunnerOptions {
  workloads: readonly Workload[];
  repetitions: number;
  systems: Record<SystemName, SystemDriver>;
  context: WorkloadContext;
  log: (line: string) => void;
}

/**
 * Runs each workload `repetitions` times on both systems, alternating which goes first, each
 * repetition starting from an idle system. A failed repetition is recorded and the run goes on.
 */
export async function runWorkloads(options: RunnerOptions): Promise<WorkloadRun[]> {
  const { context, log } = options;
  const runs: WorkloadRun[] = [];
  // A system that cannot get back to idle is left out of the rest of the run, which stays bounded.
  const broken: Partial<Record<SystemName, string>> = {};
  for (const [index, workload] of options.workloads.entries()) {
    log(`\n${workload.title}`);
    const run: WorkloadRun = {
      id: workload.id,
      title: workload.title,
      description: workload.description,
      figures: workload.figures,
      samples: { conveyor: [], bullmq: [] },
      errors: [],
      notes: [],
    };
    // After a failed repetition the system sits out the workload's other repetitions.
    const failed = new Set<SystemName>();
    for (const name of systemNames) {
      if (broken[name] !== undefined) continue;
      try {
        await options.systems[name].setWorkers(workload.workers ?? 1);
      } catch (err) {
        broken[name] = `could not start workers: ${messageOf(err)}`;
      }
    }
    for (let rep = 0; rep < options.repetitions; rep++) {
      for (const name of systemOrder(index, rep)) {
        const skip =
          broken[name] ?? (failed.has(name) ? "an earlier repetition failed" : undefined);
        if (skip !== undefined) {
          run.samples[name].push({});
          run.errors.push(`${name} #${rep + 1}: skipped, ${skip}`);
          log(`  ${name.padEnd(8)} #${rep + 1} skipped: ${skip}`);
          continue;
        }
        const system = options.systems[name];
        await waitAllIdle(options, broken);
        await waitAllCaughtUp(options, broken);
        const stuck = broken[name];
        if (stuck !== undefined) {
          run.samples[name].push({});
          run.errors.push(`${name} #${rep + 1}: ${stuck}`);
          log(`  ${name.padEnd(8)} #${rep + 1} FAILED: ${stuck}`);
          continue;
        }
        const started = performance.now();
        try {
          const sample = await workload.run(system, context);
          run.samples[name].push(sample);
          log(
            `  ${name.padEnd(8)} #${rep + 1} ${describeSample(workload, sample)} (${((performance.now() - started) / 1000).toFixed(1)} s)`,
          );
        } catch (err) {
          run.samples[name].push(err instanceof PartialSampleError ? { ...err.sample } : {});
          run.errors.push(`${name} #${rep + 1}: ${messageOf(err)}`);
          failed.add(name);
          log(`  ${name.padEnd(8)} #${rep + 1} FAILED: ${firstLine(messageOf(err))}`);
        }
      }
    }
    for (const name of systemNames) {
      if (broken[name] !== undefined) continue;
      const lag = await options.systems[name].lag().catch(() => undefined);
      if (lag !== undefined) {
        run.notes.push(`${name}: ${lag}`);
        log(`  ${name.padEnd(8)} afterwards: ${lag}`);
      }
    }
    runs.push(run);
  }
  return runs;
}

/**
 * Waits until every system is idle, not only the one about to run: a workload may return with its
 * jobs still queued (the REST workloads submit faster than the workers run), and the other
 * system's repetition must not share the cores with them. A system that does not get idle within
 * the timeout is marked broken and left out of the rest of the run.
 */
async function waitAllIdle(
  options: RunnerOptions,
  broken: Partial<Record<SystemName, string>>,
): Promise<void> {
  await eachWorkingSystem(options, broken, "it did not become idle", (name) =>
    options.systems[name].waitIdle(options.context.timeoutMs),
  );
}

/**
 * Gives every system's background work (Conveyor's read model catching up) up to `catchUpMs` (0:
 * no wait) to finish, so that it does not take CPU from the repetition about to start, whichever system that
 * is; what is still behind then is logged and the run goes on. A system whose wait fails (one of
 * its processes died) is marked broken, as one that does not become idle.
 */
async function waitAllCaughtUp(
  options: RunnerOptions,
  broken: Partial<Record<SystemName, string>>,
): Promise<void> {
  if (options.context.catchUpMs <= 0) return;
  await eachWorkingSystem(options, broken, "it could not catch up", async (name) => {
    const behind = await options.systems[name].waitCaughtUp(options.context.catchUpMs);
    if (behind !== undefined) options.log(`  ${name.padEnd(8)} still catching up: ${behind}`);
  });
}

/**
 * Runs `wait` for each system not marked broken yet. One whose wait throws is marked broken,
 * `failed` and the error's first line saying why, and left out of the rest of the run.
 */
async function eachWorkingSystem(
  options: RunnerOptions,
  broken: Partial<Record<SystemName, string>>,
  failed: string,
  wait: (name: SystemName) => Promise<unknown>,
): Promise<void> {
  for (const name of systemNames) {
    if (broken[name] !== undefined) continue;
    try {
      await wait(name);
    } catch (err) {
      broken[name] = `${failed} (${firstLine(messageOf(err))})`;
      options.log(`  ${name.padEnd(8)} left out of the rest of the run: ${broken[name]}`);
    }
  }
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function firstLine(text: string): string {
  return text.split("\n")[0] ?? "";
}

/** The shared (non per-process) figures of a sample, for the progress log. */
function describeSample(workload: Workload, sample: Sample): string {
  return workload.figures
    .filter((f) => f.only === undefined)
    .map((f) => `${f.key}=${formatBrief(sample[f.key])}`)
    .join(" ");
}

function formatBrief(value: number | undefined): string {
  if (value === undefined || !Number.isFinite(value)) return "-";
  return Math.abs(value) >= 100 ? value.toFixed(0) : value.toFixed(2);
}
