import { setTimeout as sleep } from "node:timers/promises";

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
  /** How often the loop wakes to send what is due, in milliseconds. @default 5 */
  tickMs?: number;
}

/** What {@link runOpenLoop} did. */
export interface OpenLoopResult {
  sent: number;
  /** How late the loop sent its latest job, in milliseconds: a busy client shows here. */
  maxLagMs: number;
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
  const total = Math.round((options.ratePerSec * options.durationMs) / 1000);
  const tickMs = options.tickMs ?? 5;
  const startPerf = performance.now();
  const startEpoch = Date.now();
  const intervalMs = 1000 / options.ratePerSec;
  let sent = 0;
  let maxLagMs = 0;
  while (sent < total) {
    const elapsed = performance.now() - startPerf;
    const due = dueCount(elapsed, options.ratePerSec, total);
    for (; sent < due; sent++) {
      const dueAt = sent * intervalMs;
      maxLagMs = Math.max(maxLagMs, elapsed - dueAt);
      options.send(sent, startEpoch + dueAt);
    }
    await sleep(tickMs);
  }
  return { sent, maxLagMs };
}
