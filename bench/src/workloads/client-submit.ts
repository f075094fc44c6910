import { JobKind } from "../systems/system.ts";
import { count, secondsSince } from "./workload.ts";
import type { Workload } from "./workload.ts";

/**
 * Submit through the client library, one job at a time, each awaited: Conveyor's JetStream publish
 * to `jobs.submit.echo` (waiting for the PubAck), BullMQ's `Queue.add`.
 */
export function submitOneByOne(jobs: number): Workload {
  return {
    id: "submit-single",
    title: `submit via client, one at a time (${count(jobs)} jobs)`,
    description:
      "Conveyor: JetStream publish awaited per job; BullMQ: Queue.add awaited per job. Jobs/s and mean acknowledgement time.",
    figures: [
      { key: "rate", label: "accepted", unit: "jobs/s", better: "higher" },
      { key: "meanMs", label: "mean ack time", unit: "ms", better: "lower" },
    ],
    async run(system, ctx) {
      const list = ctx.jobs(jobs, JobKind.Noop, { n: 1 });
      const start = performance.now();
      for (const job of list) await system.submitOne(job);
      const seconds = secondsSince(start);
      return { rate: jobs / seconds, meanMs: (seconds * 1000) / jobs };
    },
  };
}

/**
 * Submit through the client library in batches: Conveyor's `JobClient.submitBulk` (one bulk
 * message of `batch` jobs on `jobs.bulk.<type>`, then the next), BullMQ's `Queue.addBulk` of
 * `batch` jobs.
 */
export function submitBatched(jobs: number, batch: number): Workload {
  return {
    id: "submit-batched",
    title: `submit via client, batches of ${batch} (${count(jobs)} jobs)`,
    description:
      "Conveyor: JobClient.submitBulk, one bulk message per batch; BullMQ: Queue.addBulk. Jobs/s accepted.",
    figures: [{ key: "rate", label: "accepted", unit: "jobs/s", better: "higher" }],
    async run(system, ctx) {
      const list = ctx.jobs(jobs, JobKind.Noop, { n: 1 });
      const start = performance.now();
      await system.submitMany(list, batch);
      return { rate: jobs / secondsSince(start) };
    },
  };
}
