import type { Summary } from "./stats.ts";

/** The two systems the bench compares. */
export const SystemName = { Conveyor: "conveyor", BullMQ: "bullmq" } as const;
export type SystemName = (typeof SystemName)[keyof typeof SystemName];
export const systemNames: readonly SystemName[] = [SystemName.Conveyor, SystemName.BullMQ];

/** Display names of the systems. */
export const systemTitle: Record<SystemName, string> = { conveyor: "Conveyor", bullmq: "BullMQ" };

/** Which direction of a figure is good. */
export const Better = { Higher: "higher", Lower: "lower" } as const;
export type Better = (typeof Better)[keyof typeof Better];

/** One number a workload measures. */
export interface FigureSpec {
  /** Unique within its workload, e.g. `p99`. */
  key: string;
  /** What it is, e.g. `submit -> handler start p99`. */
  label: string;
  /** `jobs/s`, `ms`, `s`, `MiB`, `CPU s / 1k jobs`. */
  unit: string;
  better: Better;
  /**
   * Set for per-process details that only one system has (its own processes): they are listed
   * separately and get no ratio.
   */
  only?: SystemName;
}

/** One repetition of a workload on one system: a value per figure key (NaN when not measured). */
export type Sample = Record<string, number>;

/** A figure's repetitions summarized for both systems. */
export interface FigureResult {
  workload: string;
  figure: FigureSpec;
  conveyor: Summary;
  bullmq: Summary;
  /** Conveyor's median divided by BullMQ's; undefined when either is missing or BullMQ's is 0. */
  ratio: number | undefined;
}
