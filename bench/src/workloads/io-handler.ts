import { JobKind } from "../systems/system.ts";
import { count, secondsSince } from "./workload.ts";
import type { Workload } from "./workload.ts";

/**
 * An I/O-bound handler (`sleep` for `handlerMs`) on `workers` worker processes: `jobs` submitted at
 * once, timed until all are acknowledged. The ceiling is workers x concurrency x 1000/handlerMs.
 */
export function ioHandler(
  jobs: number,
  workers: number,
  handlerMs: number,
  batch: number,
): Workload {
  return {
    id: `io-${workers}w`,
    title: `${handlerMs} ms I/O handler, ${workers} worker process${workers === 1 ? "" : "es"} (${count(jobs)} jobs)`,
    description: `Jobs whose handler waits ${handlerMs} ms, on 1, 2 and 4 worker processes; jobs/s until all are acknowledged.`,
    figures: [{ key: "rate", label: "completed", unit: "jobs/s", better: "higher" }],
    workers,
    async run(system, ctx) {
      const list = ctx.jobs(jobs, JobKind.Sleep, { ms: handlerMs });
      const mark = await system.mark();
      const start = performance.now();
      await system.submitMany(list, batch);
      await system.waitAcked(mark, jobs, ctx.timeoutMs);
      return { rate: jobs / secondsSince(start) };
    },
  };
}
