import { PartialSampleError } from "../errors.ts";
import { ProcessSampler } from "../metrics/process-sampler.ts";
import type { ProcessUsage } from "../metrics/process-sampler.ts";
import type { FigureSpec, Sample, SystemName } from "../report/figures.ts";
import { bullmqProcessNames } from "../systems/bullmq.ts";
import { conveyorProcessNames } from "../systems/conveyor.ts";
import { JobKind } from "../systems/system.ts";
import { count, secondsSince } from "./workload.ts";
import type { Workload } from "./workload.ts";

const processNames: Record<SystemName, readonly string[]> = {
  conveyor: conveyorProcessNames,
  bullmq: bullmqProcessNames,
};

function perProcessFigures(): FigureSpec[] {
  return (Object.entries(processNames) as [SystemName, readonly string[]][]).flatMap(
    ([system, names]) =>
      names.flatMap((name) => [
        {
          key: `rss.${name}`,
          label: `peak RSS ${name}`,
          unit: "MiB",
          better: "lower" as const,
          only: system,
        },
        {
          key: `cpu.${name}`,
          label: `CPU ${name}`,
          unit: "CPU s / 1k jobs",
          better: "lower" as const,
          only: system,
        },
      ]),
  );
}

/**
 * Growth: `jobs` no-op jobs queued while no worker runs, then one worker process started. Measures
 * how fast the backlog is queued and drained (from the first handler start to the last
 * acknowledgement, and to all succeeded visible), and every process's peak RSS (`VmRSS` from
 * `/proc/<pid>/status`) and CPU (`/proc/<pid>/stat`) per 1,000 jobs over the whole workload.
 */
export function growth(jobs: number, batch: number, visibleWindowMs: number): Workload {
  return {
    id: `growth-${count(jobs)}`,
    title: `backlog of ${count(jobs)} jobs, then 1 worker`,
    description:
      "N jobs queued before any worker runs, then one worker: queue and drain throughput, peak RSS and CPU per 1,000 jobs of every process.",
    figures: [
      { key: "queued", label: "queued", unit: "jobs/s", better: "higher" },
      { key: "drained", label: "drained (acked)", unit: "jobs/s", better: "higher" },
      { key: "visible", label: "drained (succeeded visible)", unit: "jobs/s", better: "higher" },
      { key: "rss.total", label: "sum of peak RSS", unit: "MiB", better: "lower" },
      { key: "cpu.total", label: "CPU, all processes", unit: "CPU s / 1k jobs", better: "lower" },
      ...perProcessFigures(),
    ],
    workers: 0,
    async run(system, ctx) {
      await system.setWorkers(0);
      const list = ctx.jobs(jobs, JobKind.Noop, { n: 1 });
      const mark = await system.mark();
      const sampler = ProcessSampler.start(() => system.processes());
      let usage: ProcessUsage[] = [];
      const sample: Sample = {};
      let stopWatching: () => void = () => {};
      let failure: unknown;
      try {
        const start = performance.now();
        await system.submitMany(list, batch);
        await system.waitQueued(mark, jobs, ctx.timeoutMs);
        sample.queued = jobs / secondsSince(start);

        let firstStart = Number.NaN;
        stopWatching = await system.watchStarts(
          (_id, atMs) => {
            if (Number.isNaN(firstStart)) firstStart = atMs;
          },
          { max: 1 },
        );
        await system.setWorkers(1);
        sampler.sampleNow();
        await system.waitAcked(mark, jobs, ctx.timeoutMs);
        sample.drained = jobs / ((Date.now() - firstStart) / 1000);
        const visible = await system.waitVisible(mark, list, visibleWindowMs);
        sample.visible = visible / ((Date.now() - firstStart) / 1000);
        if (visible < jobs) {
          ctx.log(
            `  ${system.name}: ${visible} of ${jobs} jobs visible as succeeded after the window`,
          );
        }
      } catch (err) {
        failure = err;
      } finally {
        stopWatching();
        usage = await sampler.stop();
      }
      sample["rss.total"] = usage.reduce((sum, u) => sum + u.peakRssMib, 0);
      for (const u of usage) sample[`rss.${u.name}`] = u.peakRssMib;
      // CPU per job means something only when every job was done.
      if (failure === undefined) {
        sample["cpu.total"] = (usage.reduce((sum, u) => sum + u.cpuSeconds, 0) * 1000) / jobs;
        for (const u of usage) sample[`cpu.${u.name}`] = (u.cpuSeconds * 1000) / jobs;
      }
      if (failure !== undefined) throw new PartialSampleError(sample, { cause: failure });
      return sample;
    },
  };
}
