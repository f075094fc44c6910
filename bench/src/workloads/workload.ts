import type { FigureSpec, Sample } from "../report/figures.ts";
import type { BenchJob, JobKind, SystemDriver } from "../systems/system.ts";

/** What a workload gets besides the system. */
export interface WorkloadContext {
  /** Jobs with fresh ids, unique within the run. */
  jobs(n: number, kind: JobKind, payload: BenchJob["payload"]): BenchJob[];
  log(line: string): void;
  /** Longest wait for the system to finish a workload's jobs, in milliseconds. */
  timeoutMs: number;
  /**
   * Longest wait before a repetition for the systems' background work (Conveyor's read model) to
   * catch up, in milliseconds.
   */
  catchUpMs: number;
}

/** One benchmark, run the same way on both systems. */
export interface Workload {
  /** Unique id, e.g. `saturated-3k`. */
  id: string;
  /** Shown in the table, with the sizes, e.g. `end-to-end saturated, 3,000 jobs`. */
  title: string;
  /** What it measures, one sentence. */
  description: string;
  figures: readonly FigureSpec[];
  /** Worker processes the workload runs with (it may change them while it runs). @default 1 */
  workers?: number;
  /** One repetition: every figure's value (NaN for one it could not measure). */
  run(system: SystemDriver, ctx: WorkloadContext): Promise<Sample>;
}

/** Seconds since `startMs` (a `performance.now()` reading). */
export function secondsSince(startMs: number): number {
  return (performance.now() - startMs) / 1000;
}

/** `12,000` style counts for titles. */
export function count(n: number): string {
  return n >= 1000 && n % 1000 === 0 ? `${n / 1000}k` : n.toLocaleString("en-US");
}
