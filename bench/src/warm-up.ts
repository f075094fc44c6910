import { JobKind } from "./systems/system.ts";
import type { SystemDriver } from "./systems/system.ts";
import type { WorkloadContext } from "./workloads/workload.ts";

/** How much warm-up load each system gets before the first workload. */
export interface WarmUpOptions {
  /** No-op jobs run through each system. */
  jobs: number;
  /** Jobs per submitted batch. */
  batch: number;
}

/**
 * Runs a load of no-op jobs through every system, one after the other, and waits until each is
 * idle again: the first repetition of the first workload then runs code the JIT has already
 * compiled, as every later repetition does, instead of paying for the compilation in its figures.
 */
export async function warmUp(
  systems: Record<string, SystemDriver>,
  ctx: WorkloadContext,
  options: WarmUpOptions,
): Promise<void> {
  for (const [name, system] of Object.entries(systems)) {
    const started = performance.now();
    const mark = await system.mark();
    await system.submitMany(ctx.jobs(options.jobs, JobKind.Noop, { warm: 1 }), options.batch);
    await system.waitAcked(mark, options.jobs, ctx.timeoutMs);
    await system.waitIdle(ctx.timeoutMs);
    const behind = await system.waitCaughtUp(ctx.catchUpMs);
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    ctx.log(
      `${name} warmed up with ${options.jobs} jobs (${seconds} s)${behind === undefined ? "" : `; ${behind}`}`,
    );
  }
}
