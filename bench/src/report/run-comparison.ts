import type { FigureResult, SystemName } from "./figures.ts";
import { systemNames, systemTitle } from "./figures.ts";
import { chanceOfOverlap } from "./overlap.ts";
import { median } from "./stats.ts";
import { formatRatio, formatSummary } from "./table.ts";
import type { Summary } from "./stats.ts";

/** One system's figure in two runs. */
export interface FigureChange {
  workload: string;
  label: string;
  unit: string;
  system: SystemName;
  before: Summary;
  after: Summary;
  /** `after`'s median over `before`'s, minus one; NaN when either is missing or `before`'s is 0. */
  change: number;
  /** Whether the two runs' min–max ranges overlap: the repetitions of one could be the other's. */
  agrees: boolean;
}

/** The Conveyor/BullMQ ratio of a figure in two runs. */
export interface RatioChange {
  workload: string;
  label: string;
  before: number;
  after: number;
  change: number;
}

/** How a rerun compares with an earlier run, figure by figure. */
export interface RunComparison {
  figures: FigureChange[];
  ratios: RatioChange[];
  /** Figures whose ranges overlap, of those measured in both runs. */
  agreeing: number;
  compared: number;
  /**
   * How many of `compared` would overlap if nothing had changed between the runs (each figure's
   * repetitions drawn from one distribution): with 3 repetitions a side, 9 in 10.
   */
  expectedAgreeing: number;
  /** Median of the absolute ratio changes; NaN when no ratio is in both runs. */
  medianRatioChange: number;
}

// Per-process figures of the two systems share keys (both have a `worker`): `only` tells them
// apart. A figure whose unit changed between the runs is another figure.
const keyOf = (r: FigureResult) =>
  [r.workload, r.figure.key, r.figure.only ?? "", r.figure.unit].join("\u0000");

const relative = (before: number, after: number) =>
  Number.isFinite(before) && Number.isFinite(after) && before !== 0
    ? after / before - 1
    : Number.NaN;

const measured = (s: Summary) => s.n > 0 && Number.isFinite(s.median);

/**
 * Compares the figures two runs share (same workload id, figure key and unit). Per-process details
 * count like any other figure; a figure a run did not measure, or one whose values are all zero
 * in both, is left out.
 */
export function compareRuns(
  before: readonly FigureResult[],
  after: readonly FigureResult[],
): RunComparison {
  const earlier = new Map(before.map((r) => [keyOf(r), r]));
  const figures: FigureChange[] = [];
  const ratios: RatioChange[] = [];
  for (const now of after) {
    const then = earlier.get(keyOf(now));
    if (then === undefined) continue;
    for (const system of now.figure.only === undefined ? systemNames : [now.figure.only]) {
      const b = then[system];
      const a = now[system];
      if (!measured(b) || !measured(a) || (b.max === 0 && a.max === 0)) continue;
      figures.push({
        workload: now.workload,
        label: now.figure.label,
        unit: now.figure.unit,
        system,
        before: b,
        after: a,
        change: relative(b.median, a.median),
        agrees: a.min <= b.max && b.min <= a.max,
      });
    }
    if (then.ratio !== undefined && now.ratio !== undefined) {
      ratios.push({
        workload: now.workload,
        label: now.figure.label,
        before: then.ratio,
        after: now.ratio,
        change: relative(then.ratio, now.ratio),
      });
    }
  }
  return {
    figures,
    ratios,
    agreeing: figures.filter((f) => f.agrees).length,
    compared: figures.length,
    expectedAgreeing: figures.reduce((sum, f) => sum + chanceOfOverlap(f.before.n, f.after.n), 0),
    medianRatioChange: median(ratios.map((r) => Math.abs(r.change))),
  };
}

const percent = (v: number) =>
  Number.isFinite(v) ? `${v >= 0 ? "+" : ""}${(v * 100).toFixed(0)} %` : "-";

/** The comparison as Markdown: a summary, then every figure whose ranges do not overlap. */
export function renderComparison(
  c: RunComparison,
  names: { before: string; after: string },
): string {
  const apart = c.figures.filter((f) => !f.agrees);
  const lines = [
    `${names.after} against ${names.before}: ${c.agreeing} of ${c.compared} figures agree (their min–max ranges overlap; ` +
      `about ${Math.round(c.expectedAgreeing)} would by chance alone if nothing had changed); ` +
      `the Conveyor/BullMQ ratios moved by ${percent(c.medianRatioChange).replace("+", "")} in the median.`,
    "",
  ];
  if (apart.length > 0) {
    lines.push(
      "Figures whose ranges do not overlap:",
      "",
      `| workload | figure | system | ${names.before} | ${names.after} | change |`,
      "|---|---|---|--:|--:|--:|",
      ...apart.map(
        (f) =>
          `| ${f.workload} | ${f.label} (${f.unit}) | ${systemTitle[f.system]} | ${formatSummary(f.before)} | ${formatSummary(f.after)} | ${percent(f.change)} |`,
      ),
      "",
    );
  }
  lines.push(
    "Conveyor/BullMQ ratios:",
    "",
    `| workload | figure | ${names.before} | ${names.after} | change |`,
    "|---|---|--:|--:|--:|",
    ...c.ratios.map(
      (r) =>
        `| ${r.workload} | ${r.label} | ${formatRatio(r.before)} | ${formatRatio(r.after)} | ${percent(r.change)} |`,
    ),
    "",
  );
  return lines.join("\n");
}
