import type { Better } from "./figures.ts";

/** Conveyor's value over BullMQ's; undefined when either is not finite or BullMQ's is 0. */
export function ratio(conveyor: number, bullmq: number): number | undefined {
  if (!Number.isFinite(conveyor) || !Number.isFinite(bullmq) || bullmq === 0) return undefined;
  return conveyor / bullmq;
}

/**
 * How many times better Conveyor does than BullMQ on a figure: above 1 Conveyor is ahead, below
 * 1 behind. For "lower is better" figures that is the inverse of the ratio.
 */
export function advantage(r: number | undefined, better: Better): number | undefined {
  if (r === undefined) return undefined;
  if (better === "higher") return r;
  return r === 0 ? Number.POSITIVE_INFINITY : 1 / r;
}

/** Who is ahead and by how much, e.g. `BullMQ 2.4x`, `Conveyor 1.3x`, `even`. */
export function verdict(r: number | undefined, better: Better): string {
  const a = advantage(r, better);
  if (a === undefined) return "-";
  // One side at zero: no factor to give.
  if (!Number.isFinite(a)) return "Conveyor";
  if (a === 0) return "BullMQ";
  // Within 5 % the repetitions' spread on a shared machine says more than the ratio.
  if (a >= 0.95 && a <= 1.05) return "even";
  return a > 1 ? `Conveyor ${formatFactor(a)}` : `BullMQ ${formatFactor(1 / a)}`;
}

function formatFactor(f: number): string {
  return `${f >= 10 ? f.toFixed(0) : f.toFixed(1)}x`;
}
