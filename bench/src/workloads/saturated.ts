import { PartialSampleError } from "../errors.ts";
import type { Sample } from "../report/figures.ts";
import { JobKind } from "../systems/system.ts";
import { count, secondsSince } from "./workload.ts";
import type { Workload } from "./workload.ts";

/**
 * End to end under saturation: `jobs` no-op jobs submitted as fast as accepted (batches of
 * `batch`), timed until every one was acknowledged by a worker, and until every one reads as
 * succeeded (Conveyor: in the MongoDB read model, i.e. the projection converged). When the read
 * model has not converged `visibleWindowMs` after all were acknowledged, the visible rate is the
 * number that had become visible by then over the time since submitting began (Conveyor's read model also works off
 * earlier workloads' events, so it is the projector's throughput rather than these jobs').
 */
export function saturated(jobs: number, batch: number, visibleWindowMs: number): Workload {
  return {
    id: "saturated",
    title: `end-to-end saturated (${count(jobs)} no-op jobs)`,
    description:
      "N jobs submitted as fast as accepted; throughput until all are acknowledged by workers and until all read as succeeded.",
    figures: [
      { key: "accepted", label: "submitted", unit: "jobs/s", better: "higher" },
      { key: "acked", label: "all acked", unit: "jobs/s", better: "higher" },
      { key: "visible", label: "succeeded visible", unit: "jobs/s", better: "higher" },
    ],
    async run(system, ctx) {
      const list = ctx.jobs(jobs, JobKind.Noop, { n: 1 });
      const mark = await system.mark();
      const start = performance.now();
      await system.submitMany(list, batch);
      const submittedS = secondsSince(start);
      const sample: Sample = { accepted: jobs / submittedS };
      try {
        await system.waitAcked(mark, jobs, ctx.timeoutMs);
        sample.acked = jobs / secondsSince(start);
      } catch (err) {
        throw new PartialSampleError(sample, { cause: err });
      }
      // Until all read as succeeded, or for at most visibleWindowMs: then the rate is how many did.
      const visible = await system.waitVisible(mark, list, visibleWindowMs);
      sample.visible = visible / secondsSince(start);
      if (visible < jobs) {
        ctx.log(
          `  ${system.name}: ${visible} of ${jobs} jobs visible as succeeded after ${visibleWindowMs / 1000} s`,
        );
      }
      return sample;
    },
  };
}
