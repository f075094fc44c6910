import { systemTitle } from "./figures.ts";
import type { FigureResult } from "./figures.ts";
import { verdict } from "./ratio.ts";
import type { Summary } from "./stats.ts";

/** Column alignment of {@link renderTable}. */
export type Align = "left" | "right";

/** A number with about three significant digits and thousands separators; `-` when missing. */
export function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return "-";
  const abs = Math.abs(value);
  if (abs >= 1000) return Math.round(value).toLocaleString("en-US");
  if (abs >= 100) return value.toFixed(0);
  if (abs >= 10) return value.toFixed(1);
  if (abs >= 1) return value.toFixed(2);
  if (value === 0) return "0";
  return value.toPrecision(2);
}

/** `median (min–max)`, or only the median when every repetition agreed; `-` without values. */
export function formatSummary(summary: Summary): string {
  if (summary.n === 0) return "-";
  const med = formatNumber(summary.median);
  const lo = formatNumber(summary.min);
  const hi = formatNumber(summary.max);
  return lo === hi ? med : `${med} (${lo}–${hi})`;
}

/** A ratio with two decimals (fewer digits far from 1); `-` when there is none. */
export function formatRatio(r: number | undefined): string {
  if (r === undefined || !Number.isFinite(r)) return "-";
  if (r >= 10) return r.toFixed(1);
  if (r >= 0.1) return r.toFixed(2);
  return r.toPrecision(2);
}

/** A Markdown table whose columns are padded to line up in a terminal too. */
export function renderTable(
  headers: readonly string[],
  rows: readonly (readonly string[])[],
  align: readonly Align[] = [],
): string {
  const widths = headers.map((h, i) =>
    Math.max(3, h.length, ...rows.map((r) => (r[i] ?? "").length)),
  );
  const pad = (text: string, i: number) =>
    align[i] === "right" ? text.padStart(widths[i] ?? 0) : text.padEnd(widths[i] ?? 0);
  const line = (cells: readonly string[]) =>
    `| ${widths.map((_, i) => pad(cells[i] ?? "", i)).join(" | ")} |`;
  const rule = `|${widths
    .map((w, i) => (align[i] === "right" ? `${"-".repeat(w + 1)}:` : "-".repeat(w + 2)))
    .join("|")}|`;
  return [line(headers), rule, ...rows.map(line)].join("\n");
}

/**
 * The comparison: one row per figure both systems have, with Conveyor/BullMQ and who is ahead.
 * `workloadTitles` maps workload ids to the names shown.
 */
export function comparisonTable(
  results: readonly FigureResult[],
  workloadTitles: Readonly<Record<string, string>>,
): string {
  const rows = results
    .filter((r) => r.figure.only === undefined)
    .map((r) => [
      workloadTitles[r.workload] ?? r.workload,
      `${r.figure.label} (${r.figure.unit})`,
      formatSummary(r.conveyor),
      formatSummary(r.bullmq),
      formatRatio(r.ratio),
      verdict(r.ratio, r.figure.better),
    ]);
  return renderTable(
    ["workload", "figure", "Conveyor", "BullMQ", "Conveyor/BullMQ", "ahead"],
    rows,
    ["left", "left", "right", "right", "right", "left"],
  );
}

/** Per-process figures (one system's own processes): no ratio, the processes differ. */
export function detailTable(
  results: readonly FigureResult[],
  workloadTitles: Readonly<Record<string, string>>,
): string {
  const rows = results.flatMap((r) => {
    const system = r.figure.only;
    if (system === undefined) return [];
    return [
      [
        systemTitle[system],
        workloadTitles[r.workload] ?? r.workload,
        `${r.figure.label} (${r.figure.unit})`,
        formatSummary(r[system]),
      ],
    ];
  });
  return renderTable(["system", "workload", "figure", "median (min–max)"], rows, [
    "left",
    "left",
    "left",
    "right",
  ]);
}
