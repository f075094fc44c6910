import { setTimeout as sleep } from "node:timers/promises";

import { ProcessSampler } from "../metrics/process-sampler.ts";
import type { Sample } from "../report/figures.ts";
import { processFigures, recordProcessUsage } from "./process-figures.ts";
import { secondsSince } from "./workload.ts";
import type { Workload } from "./workload.ts";

/** Longest wait for the read model to catch up before watching, in milliseconds. */
const restCatchUpMs = 15_000;

/** Options of {@link atRest}. */
export interface AtRestOptions {
  /** `first` runs before the other workloads (after the warm-up), `last` after them. */
  when: "first" | "last";
  /** How long the idle system is watched, in seconds. */
  windowS: number;
}

/**
 * At rest: the system idle (nothing queued or running, its read model caught up) with one worker
 * process, watched for a few seconds: the RSS every process holds with nothing to do, and the CPU
 * it spends all the same (pull requests renewed, heartbeats, timers, polls). Run first it shows
 * what a warmed-up system needs; run last, what it keeps after all the work before.
 */
export function atRest(options: AtRestOptions): Workload {
  const moment = options.when === "first" ? "before the workloads" : "after the workloads";
  return {
    id: `idle-${options.when}`,
    title: `at rest ${moment} (${options.windowS} s idle)`,
    description:
      "The idle system watched for a few seconds: RSS of every process, and CPU per second spent doing nothing.",
    figures: processFigures({ over: "rest", rss: true }),
    async run(system, ctx) {
      // At rest includes the read model, which a quick run does not wait for between workloads.
      const behind = await system.waitCaughtUp(Math.max(ctx.catchUpMs, restCatchUpMs));
      if (behind !== undefined) ctx.log(`  ${system.name}: not at rest, still ${behind}`);
      const start = performance.now();
      const sampler = ProcessSampler.start(() => system.processes());
      await sleep(options.windowS * 1000);
      const usage = await sampler.stop();
      const sample: Sample = {};
      recordProcessUsage(sample, usage, secondsSince(start), { rss: true, cpu: true });
      return sample;
    },
  };
}
