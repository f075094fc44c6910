import type { FigureSpec, SystemName } from "./figures.ts";
import { chanceOfOverlap } from "./overlap.ts";

/**
 * What this comparison reads of a saved workload: its figures and every repetition's values per
 * system, in repetition order (a failed repetition leaves an empty sample, so the places match).
 * JSON has no NaN: a value not measured is saved as `null`.
 */
export interface SampledWorkload {
  id: string;
  figures: readonly FigureSpec[];
  samples: Record<SystemName, Record<string, number | null | undefined>[]>;
}

/** One figure's Conveyor/BullMQ ratio, repetition by repetition, in two runs. */
export interface RepetitionRatioChange {
  workload: string;
  label: string;
  before: number[];
  after: number[];
  /** Whether the two runs' ranges of per-repetition ratios overlap. */
  agrees: boolean;
}

/** How a rerun's per-repetition ratios compare with an earlier run's. */
export interface RepetitionRatioComparison {
  figures: RepetitionRatioChange[];
  agreeing: number;
  compared: number;
  /** How many of `compared` would overlap if nothing had changed (see {@link chanceOfOverlap}). */
  expectedAgreeing: number;
}

/**
 * Conveyor's value over BullMQ's in each repetition where both measured the figure. Repetition
 * `i` of the two systems ran back to back (the bench alternates which goes first), so each ratio
 * is taken at one speed of the machine, which changes from one hour to the next for both.
 */
export function repetitionRatios(workload: SampledWorkload, key: string): number[] {
  const { conveyor, bullmq } = workload.samples;
  const ratios: number[] = [];
  for (let i = 0; i < Math.min(conveyor.length, bullmq.length); i++) {
    const c = conveyor[i]?.[key];
    const b = bullmq[i]?.[key];
    if (typeof c !== "number" || typeof b !== "number" || !Number.isFinite(c)) continue;
    if (!Number.isFinite(b) || b === 0) continue;
    ratios.push(c / b);
  }
  return ratios;
}

/**
 * Compares the per-repetition Conveyor/BullMQ ratios of the figures two runs share (same workload
 * id and figure key and unit, figures of both systems only). A figure whose ratio is one and the
 * same number in every repetition of both runs (a rate both systems were offered) says nothing
 * about noise and is left out.
 */
export function compareRepetitionRatios(
  before: readonly SampledWorkload[],
  after: readonly SampledWorkload[],
): RepetitionRatioComparison {
  const earlier = new Map(before.map((w) => [w.id, w]));
  const figures: RepetitionRatioChange[] = [];
  for (const now of after) {
    const then = earlier.get(now.id);
    if (then === undefined) continue;
    for (const figure of now.figures) {
      if (figure.only !== undefined) continue;
      const thenFigure = then.figures.find((f) => f.key === figure.key);
      if (thenFigure === undefined || thenFigure.unit !== figure.unit) continue;
      const b = repetitionRatios(then, figure.key);
      const a = repetitionRatios(now, figure.key);
      if (b.length === 0 || a.length === 0) continue;
      if (new Set([...b, ...a]).size === 1) continue;
      const agrees = Math.min(...a) <= Math.max(...b) && Math.min(...b) <= Math.max(...a);
      figures.push({ workload: now.id, label: figure.label, before: b, after: a, agrees });
    }
  }
  return {
    figures,
    agreeing: figures.filter((f) => f.agrees).length,
    compared: figures.length,
    expectedAgreeing: figures.reduce(
      (sum, f) => sum + chanceOfOverlap(f.before.length, f.after.length),
      0,
    ),
  };
}

const ratioList = (ratios: readonly number[]) => ratios.map((r) => r.toFixed(2)).join(", ");

/** The comparison as Markdown: a summary, then every figure whose ratios moved apart. */
export function renderRepetitionRatios(c: RepetitionRatioComparison): string {
  const apart = c.figures.filter((f) => !f.agrees);
  const lines = [
    `Conveyor/BullMQ ratios repetition by repetition (repetition i of the two systems ran back to back, ` +
      `so the machine's speed cancels): ${c.agreeing} of ${c.compared} figures agree (their ranges overlap; ` +
      `about ${Math.round(c.expectedAgreeing)} would by chance alone if nothing had changed).`,
    "",
  ];
  if (apart.length > 0) {
    lines.push(
      "Figures whose per-repetition ratios do not overlap:",
      "",
      "| workload | figure | earlier ratios | later ratios |",
      "|---|---|--:|--:|",
      ...apart.map(
        (f) => `| ${f.workload} | ${f.label} | ${ratioList(f.before)} | ${ratioList(f.after)} |`,
      ),
      "",
    );
  }
  return lines.join("\n");
}
