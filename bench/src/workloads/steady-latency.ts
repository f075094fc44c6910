import { setTimeout as sleep } from "node:timers/promises";

import { createLatencyHistogram } from "../load/latency-histogram.ts";
import type { LatencyHistogram } from "../load/latency-histogram.ts";
import { runOpenLoop } from "../load/open-loop.ts";
import { ProcessSampler } from "../metrics/process-sampler.ts";
import type { ProcessUsage } from "../metrics/process-sampler.ts";
import type { SystemDriver } from "../systems/system.ts";
import { JobKind } from "../systems/system.ts";
import { processFigures, recordProcessUsage } from "./process-figures.ts";
import { count } from "./workload.ts";
import type { Workload, WorkloadContext } from "./workload.ts";

/** Options of {@link steadyLatency}. */
export interface SteadyLatencyOptions {
  /** Offered load, in jobs per second. */
  ratePerSec: number;
  durationS: number;
  /** How many jobs per second are followed until they read as succeeded. */
  visibleSamplesPerSec: number;
  /**
   * How many jobs per second are followed from their handler's end until the read model itself
   * records them as succeeded (fewer than `visibleSamplesPerSec`: each follow reads the database).
   */
  projectedSamplesPerSec: number;
  /** First pause between two reads of a followed job, in milliseconds; it grows to 250 ms. */
  pollMs: number;
  /**
   * How long after the last submission followed jobs may take to read as succeeded, in
   * milliseconds; those that do not are counted, not timed.
   */
  visibleTimeoutMs: number;
}

const percentiles = [50, 95, 99] as const;
const lagPercentiles = [50, 99] as const;

/** Longest pause between two reads of a job followed into the read model, in milliseconds. */
const projectedPollMaxMs = 50;

/**
 * For how long after a job's end its read-model document is read every `pollMs` before the steps
 * grow, in milliseconds: twice the 100 ms target, so figures near it are a step from exact.
 */
const projectedFlatMs = 200;

/** How long start reports may trail the system's acknowledgement of the last job, in milliseconds. */
const startReportGraceMs = 2000;

/**
 * Once a followed job has been waited for a while, its reads are at most this share of the time
 * waited apart: every read loads the store being measured, and a figure of seconds needs no
 * 50 ms steps.
 */
const pauseShareOfWait = 0.05;

/**
 * The time from an exact instant (a due time) to one a system stamped in whole milliseconds
 * (`Date.now()`, an ISO time): a stamp is the millisecond its instant fell in, on average half a
 * millisecond before it, so the difference is taken from the middle of that millisecond.
 */
export function latencySinceExact(stampMs: number, exactMs: number): number {
  return stampMs + 0.5 - exactMs;
}

/**
 * Latency at a steady offered rate (an open loop through the client library, so a slow system
 * cannot slow the offer down): submit -> handler start for every job, from the handler-start
 * reports; submit -> succeeded visible for a sample of jobs, read through the system's read path
 * (Conveyor: GET /v1/jobs/:id; BullMQ: getJobState) every `pollMs` once the job has started;
 * handler end -> succeeded in the read model for a smaller sample, read from the store itself
 * (Conveyor: MongoDB, not GET's fallback to `EVENTS`; BullMQ: Redis) from the end report on.
 * Submit latencies count from the time each job was due, not from when it was sent.
 */
export function steadyLatency(options: SteadyLatencyOptions): Workload {
  const total = Math.round(options.ratePerSec * options.durationS);
  return {
    id: `steady-${count(options.ratePerSec)}`,
    title: `steady ${count(options.ratePerSec)} jobs/s for ${options.durationS} s (${count(total)} no-op jobs)`,
    description:
      "Open-loop offered rate; submit -> handler start (pickup) for all jobs, submit -> succeeded visible for a sample; p50/p95/p99.",
    figures: [
      ...percentiles.map((p) => ({
        key: `pickup.p${p}`,
        label: `submit -> handler start p${p}`,
        unit: "ms",
        better: "lower" as const,
      })),
      ...percentiles.map((p) => ({
        key: `visible.p${p}`,
        label: `submit -> succeeded visible p${p}`,
        unit: "ms",
        better: "lower" as const,
      })),
      ...percentiles.map((p) => ({
        key: `projected.p${p}`,
        label: `handler end -> succeeded in read model p${p}`,
        unit: "ms",
        better: "lower" as const,
      })),
      ...lagPercentiles.map((p) => ({
        key: `sendLag.p${p}`,
        label: `client sent after due p${p} (part of every latency above)`,
        unit: "ms",
        better: "lower" as const,
      })),
      { key: "unfinished", label: "not started in time", unit: "jobs", better: "lower" },
      {
        key: "visible.missing",
        label: "followed, not visible in time",
        unit: "jobs",
        better: "lower",
      },
      {
        key: "projected.missing",
        label: "followed, not in read model in time",
        unit: "jobs",
        better: "lower",
      },
      ...processFigures({ over: "load", rss: true }),
    ],
    run: (system, ctx) => runSteady(system, ctx, options, total),
  };
}

async function runSteady(
  system: SystemDriver,
  ctx: WorkloadContext,
  options: SteadyLatencyOptions,
  total: number,
): Promise<Record<string, number>> {
  const list = ctx.jobs(total, JobKind.Noop, { n: 1 });
  const sampleEvery = everyNth(options.ratePerSec, options.visibleSamplesPerSec);
  const projectedEvery = everyNth(options.ratePerSec, options.projectedSamplesPerSec);
  const dueAt = new Map<string, number>();
  const sampled = new Set<string>();
  const projectedSampled = new Set<string>();
  const pickup = createLatencyHistogram();
  const visible = createLatencyHistogram();
  const projected = createLatencyHistogram();
  const pollers: Promise<void>[] = [];
  let submitErrors = 0;

  let visibleDeadline = Number.POSITIVE_INFINITY;
  let missing = 0;
  let projectedMissing = 0;
  /**
   * Reads `isThere(id)` until it holds, every `pollMs` for the first `flatForMs` after `from`, then
   * backing off to `maxPauseMs` (so a lagging store is not flooded with reads), and records the
   * time since `from`; false at the deadline, recording the time it was followed for: a job never
   * seen is at least that slow, and left out it would make the percentiles those of the faster
   * jobs (at 10,000 jobs/s a fifth of the followed jobs were missing from the p99).
   */
  const follow = async (
    isThere: (id: string) => Promise<boolean>,
    id: string,
    from: number,
    into: typeof visible,
    {
      growth,
      maxPauseMs,
      flatForMs = 0,
      fromIsExact,
    }: { growth: number; maxPauseMs: number; flatForMs?: number; fromIsExact: boolean },
  ): Promise<boolean> => {
    // `Date.now()` is a whole-millisecond stamp; `from` a due time (exact) or another stamp.
    const since = () => (fromIsExact ? latencySinceExact(Date.now(), from) : Date.now() - from);
    let pause = options.pollMs;
    while (Date.now() < visibleDeadline) {
      if (await isThere(id).catch(() => false)) {
        into.record(since());
        return true;
      }
      await sleep(pause);
      const waited = Date.now() - from;
      const cap = Math.max(maxPauseMs, waited * pauseShareOfWait);
      if (waited >= flatForMs) pause = Math.min(cap, pause * growth);
    }
    into.record(since());
    return false;
  };
  const followVisible = async (id: string, due: number) => {
    const found = await follow((job) => system.isSucceeded(job), id, due, visible, {
      growth: 1.5,
      maxPauseMs: 250,
      fromIsExact: true,
    });
    if (!found) missing++;
  };
  // Finer steps than above: this figure is compared with a 100 ms target, and a figure is the
  // first read that finds the job, up to a step after the store recorded it.
  const followProjected = async (id: string, endedAt: number) => {
    const found = await follow((job) => system.inReadModel(job), id, endedAt, projected, {
      growth: 1.25,
      maxPauseMs: projectedPollMaxMs,
      flatForMs: projectedFlatMs,
      fromIsExact: false,
    });
    if (!found) projectedMissing++;
  };

  const mark = await system.mark();
  // CPU and peak RSS over the offered load and until every job is acknowledged and the system has
  // caught up with it (Conveyor's read model projects after the acks; BullMQ has nothing left).
  const sampler = ProcessSampler.start(() => system.processes());
  let usage: ProcessUsage[] | undefined;
  const stopReports = await system.watchStarts(
    (id, atMs) => {
      const due = dueAt.get(id);
      if (due === undefined) return;
      dueAt.delete(id);
      pickup.record(latencySinceExact(atMs, due));
      // A job cannot read as succeeded before it started: follow it from here.
      if (sampled.has(id)) pollers.push(followVisible(id, due));
    },
    {
      onEnd: (id, atMs) => {
        // The first end reported of a job counts (a redelivered job may end twice).
        if (!projectedSampled.delete(id)) return;
        pollers.push(followProjected(id, atMs));
      },
    },
  );
  let watching = true;
  /** Stops the reports; called once they stop counting, and again on the way out. */
  const stopWatching = () => {
    if (!watching) return;
    watching = false;
    stopReports();
  };
  const submits: Promise<void>[] = [];
  let sendLag: LatencyHistogram | undefined;
  try {
    const loop = await runOpenLoop({
      ratePerSec: options.ratePerSec,
      durationMs: options.durationS * 1000,
      send: (index, due) => {
        const job = list[index];
        if (job === undefined) return;
        dueAt.set(job.id, due);
        if (index % sampleEvery === 0) sampled.add(job.id);
        if (index % projectedEvery === 0) projectedSampled.add(job.id);
        submits.push(
          system.submitAsync(job).catch(() => {
            // Counted as unfinished, and not waited for: a refused job may never start.
            submitErrors++;
            dueAt.delete(job.id);
            sampled.delete(job.id);
            projectedSampled.delete(job.id);
          }),
        );
      },
    });
    sendLag = loop.lagMs;
    if (loop.maxLagMs > 50)
      ctx.log(`  the client fell ${loop.maxLagMs.toFixed(0)} ms behind schedule`);
    await Promise.all(submits);
    visibleDeadline = Date.now() + options.visibleTimeoutMs;
    // The system's own count says when every accepted job has run; start reports may still be on
    // their way when the bench itself fell behind, so those still missing after a short grace are
    // counted rather than waited for.
    const acked = await system
      .waitAcked(mark, list.length - submitErrors, ctx.timeoutMs)
      .then(() => true)
      .catch((err: unknown) => {
        ctx.log(`  not all jobs were acknowledged in time: ${String(err)}`);
        return false;
      });
    if (acked) {
      const behind = await system.waitCaughtUp(ctx.timeoutMs);
      if (behind !== undefined) ctx.log(`  CPU counted until the timeout, still ${behind}`);
    }
    const measured = await sampler.stop();
    if (acked) usage = measured;
    const startDeadline = Date.now() + startReportGraceMs;
    while (dueAt.size > 0 && Date.now() < startDeadline) await sleep(20);
    // No report counts after this: one arriving later would time its job a second time.
    stopWatching();
    // Jobs never seen to start: followed ones are missing. When the system did not acknowledge
    // every job they may never have run, and are at least as late as they were waited for; when
    // it did, they ran and only their reports were lost, which says nothing of their latency.
    const waitedFor = Date.now();
    for (const [id, due] of dueAt) {
      if (!acked) pickup.record(latencySinceExact(waitedFor, due));
      if (sampled.has(id)) {
        if (!acked) visible.record(latencySinceExact(waitedFor, due));
        missing++;
      }
    }
    await Promise.all(pollers);
    projectedMissing += projectedSampled.size;
  } finally {
    stopWatching();
    // Stopped already unless something above threw; stopping again changes nothing.
    await sampler.stop();
  }
  if (submitErrors > 0) ctx.log(`  ${submitErrors} submissions failed`);
  const sample: Record<string, number> = {
    unfinished: dueAt.size + submitErrors,
    "visible.missing": missing,
    "projected.missing": projectedMissing,
  };
  for (const p of percentiles) {
    sample[`pickup.p${p}`] = pickup.percentileMs(p);
    sample[`visible.p${p}`] = visible.percentileMs(p);
    sample[`projected.p${p}`] = projected.percentileMs(p);
  }
  for (const p of lagPercentiles) sample[`sendLag.p${p}`] = sendLag?.percentileMs(p) ?? Number.NaN;
  if (usage !== undefined) {
    recordProcessUsage(sample, usage, list.length - submitErrors, { rss: true, cpu: true });
  }
  return sample;
}

/** Every how many jobs one is sampled, to sample `samplesPerSec` of `ratePerSec`. */
function everyNth(ratePerSec: number, samplesPerSec: number): number {
  return Math.max(1, Math.round(ratePerSec / samplesPerSec));
}
