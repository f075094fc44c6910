import { PartialSampleError } from "../errors.ts";
import { ProcessSampler } from "../metrics/process-sampler.ts";
import type { ProcessUsage } from "../metrics/process-sampler.ts";
import type { Sample } from "../report/figures.ts";
import { JobKind } from "../systems/system.ts";
import { processFigures, recordProcessUsage } from "./process-figures.ts";
import { count, secondsSince } from "./workload.ts";
import type { Workload } from "./workload.ts";

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
      ...processFigures({ over: "load", rss: true }),
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
      // CPU per job means something only when every job was done.
      recordProcessUsage(sample, usage, jobs, { rss: true, cpu: failure === undefined });
      if (failure !== undefined) throw new PartialSampleError(sample, { cause: failure });
      return sample;
    },
  };
}
