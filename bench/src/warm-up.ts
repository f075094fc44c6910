import { BenchError } from "./errors.ts";
import { JobKind } from "./systems/system.ts";
import type { SystemDriver } from "./systems/system.ts";
import type { WorkloadContext } from "./workloads/workload.ts";

/** How much warm-up load each system gets before the first workload. */
export interface WarmUpOptions {
  /** No-op jobs run through each system. */
  jobs: number;
  /** Jobs per submitted batch. */
  batch: number;
  /** No-op jobs POSTed to the system's HTTP front, so that its request path is compiled too. */
  httpRequests: number;
}

/** Requests the HTTP warm-up keeps in flight. */
const httpConcurrency = 16;

/**
 * Runs a load of no-op jobs through every system, one after the other, submitted through its
 * client and its HTTP front, and waits until each is idle again: the first repetition of the first
 * workload then runs code the JIT has already compiled, as every later repetition does, instead of
 * paying for the compilation in its figures (a first REST repetition had shown a p99 of 345 ms).
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
    await postAll(system.http, options.httpRequests);
    await system.waitAcked(mark, options.jobs + options.httpRequests, ctx.timeoutMs);
    await system.waitIdle(ctx.timeoutMs);
    const behind = await system.waitCaughtUp(ctx.catchUpMs);
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    ctx.log(
      `${name} warmed up with ${options.jobs} jobs and ${options.httpRequests} over HTTP (${seconds} s)${behind === undefined ? "" : `; ${behind}`}`,
    );
  }
}

/** POSTs `count` requests to an HTTP front, {@link httpConcurrency} at a time; throws on a refusal. */
async function postAll(http: { url: string; body: string }, count: number): Promise<void> {
  let next = 0;
  const post = async (): Promise<void> => {
    while (next < count) {
      next++;
      const response = await fetch(http.url, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: http.body,
      });
      await response.arrayBuffer();
      if (!response.ok) {
        throw new BenchError(`warm-up POST ${http.url} answered ${String(response.status)}`);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(httpConcurrency, count) }, post));
}
