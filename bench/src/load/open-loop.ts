import { setTimeout as sleep } from "node:timers/promises";

import { createLatencyHistogram } from "./latency-histogram.ts";
import type { LatencyHistogram } from "./latency-histogram.ts";

/** The time source of {@link runOpenLoop}: the real one unless a test gives another. */
export interface LoopClock {
  /** Milliseconds on a monotonic clock. */
  now(): number;
  sleep(ms: number): Promise<void>;
  /** One instant on both the epoch clock (`Date.now()`) and {@link now}'s; see {@link epochAnchor}. */
  anchor(): { epochMs: number; perfMs: number };
}

/**
 * One instant read exactly on both clocks: the moment `Date.now()` ticks over to a new millisecond
 * (waited for, at most 1 ms), and `performance.now()` then. `Date.now()` read at an arbitrary
 * moment is up to 1 ms behind the true time; due times counted from such a reading would all be
 * early by that unknown amount, which every latency of the loop would carry (the systems stamp
 * handler starts with `Date.now()`).
 */
export function epochAnchor(): { epochMs: number; perfMs: number } {
  const last = Date.now();
  for (;;) {
    const epochMs = Date.now();
    const perfMs = performance.now();
    if (epochMs !== last) return { epochMs, perfMs };
  }
}

const realClock: LoopClock = {
  now: () => performance.now(),
  sleep: (ms) => sleep(ms),
  anchor: epochAnchor,
};

/** Options of {@link runOpenLoop}. */
export interface OpenLoopOptions {
  /** Offered load, in jobs per second. */
  ratePerSec: number;
  durationMs: number;
  /**
   * Sends job `index`, due at `dueAtMs` (epoch ms). It must not wait for the system: an open loop
   * keeps its schedule however slow the answers are.
   */
  send: (index: number, dueAtMs: number) => void;
  clock?: LoopClock;
}

/** What {@link runOpenLoop} did. */
export interface OpenLoopResult {
  sent: number;
  /** The longest the loop was late with a job, in milliseconds: a busy client shows here. */
  maxLagMs: number;
  /**
   * How late each job was sent after its due time. Latencies count from the due time, so this
   * is the client's own share of every one of them.
   */
  lagMs: LatencyHistogram;
}

/** How many jobs are due `elapsedMs` into a schedule of `ratePerSec`, capped at `total`. */
export function dueCount(elapsedMs: number, ratePerSec: number, total: number): number {
  return Math.min(total, Math.floor((elapsedMs * ratePerSec) / 1000) + 1);
}

/**
 * Offers jobs at a fixed rate regardless of how fast they are answered (no coordinated
 * omission): job i is due at start + i / rate, and latency is measured from that due time.
 */
export async function runOpenLoop(options: OpenLoopOptions): Promise<OpenLoopResult> {
  const clock = options.clock ?? realClock;
  const total = Math.round((options.ratePerSec * options.durationMs) / 1000);
  const { epochMs: startEpoch, perfMs: startPerf } = clock.anchor();
  const intervalMs = 1000 / options.ratePerSec;
  const lagMs = createLatencyHistogram();
  let sent = 0;
  while (sent < total) {
    const elapsed = clock.now() - startPerf;
    const due = dueCount(elapsed, options.ratePerSec, total);
    for (; sent < due; sent++) {
      const dueAt = sent * intervalMs;
      // Read for each job: the later jobs of a burst also wait for the earlier ones' sends.
      lagMs.record(clock.now() - startPerf - dueAt);
      options.send(sent, startEpoch + dueAt);
    }
    // Wake when the next job is due (Node's timers wait at least 1 ms): a fixed tick sends each
    // job up to a tick late, and that lateness would count in every latency measured from due.
    if (sent < total) await clock.sleep(Math.max(0, sent * intervalMs - (clock.now() - startPerf)));
  }
  return { sent, maxLagMs: lagMs.percentileMs(100), lagMs };
}
