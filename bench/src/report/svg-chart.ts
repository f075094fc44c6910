import type { FigureResult } from "./figures.ts";
import { advantage, verdict } from "./ratio.ts";

/** Options of {@link renderChart}. */
export interface ChartOptions {
  title: string;
  /** A second line: mode, date, machine. */
  subtitle: string;
  /** Workload id -> name shown. */
  workloadTitles: Readonly<Record<string, string>>;
}

/** The axis spans 1/maxFactor .. maxFactor; larger advantages are drawn at the edge. */
const maxFactor = 100;
const width = 960;
const labelWidth = 300;
const rowHeight = 20;
const top = 70;
const plotLeft = labelWidth + 10;
const plotWidth = width - plotLeft - 20;
const colors = { conveyor: "#2f6fdf", bullmq: "#e0792b" } as const;

/** Escapes text for SVG content and attribute values. */
export function escapeXml(text: string): string {
  return text
    .replaceAll("&", "&amp;")
    .replaceAll("<", "&lt;")
    .replaceAll(">", "&gt;")
    .replaceAll('"', "&quot;");
}

/** Horizontal position of an advantage factor on the log axis. */
export function xOf(factor: number): number {
  const clamped = Math.min(maxFactor, Math.max(1 / maxFactor, factor));
  const unit = Math.log10(clamped) / Math.log10(maxFactor); // -1 .. 1
  return plotLeft + plotWidth / 2 + (unit * plotWidth) / 2;
}

/**
 * A bar chart of every shared figure: bars right of the centre line are how many times better
 * Conveyor does, bars to the left how many times better BullMQ does (log scale, so 2x either way
 * is the same length). Throughputs and latencies are both turned into "better by" factors.
 */
export function renderChart(results: readonly FigureResult[], options: ChartOptions): string {
  const shown = results.filter((r) => r.figure.only === undefined);
  // One heading row per workload, then its figures.
  const rows: ({ heading: string } | { result: FigureResult })[] = [];
  for (const r of shown) {
    const previous = rows.at(-1);
    if (
      previous === undefined ||
      ("result" in previous && previous.result.workload !== r.workload)
    ) {
      rows.push({ heading: options.workloadTitles[r.workload] ?? r.workload });
    }
    rows.push({ result: r });
  }
  const height = top + rows.length * rowHeight + 50;
  const axisBottom = top + rows.length * rowHeight;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text x="10" y="22" font-size="16" font-weight="bold">${escapeXml(options.title)}</text>`,
    `<text x="10" y="40" fill="#555555">${escapeXml(options.subtitle)}</text>`,
    `<text x="${xOf(1 / 10)}" y="${top - 10}" text-anchor="middle" fill="${colors.bullmq}">◀ BullMQ better</text>`,
    `<text x="${xOf(10)}" y="${top - 10}" text-anchor="middle" fill="${colors.conveyor}">Conveyor better ▶</text>`,
  ];
  for (const factor of [1 / 100, 1 / 10, 1, 10, 100]) {
    const x = xOf(factor);
    const label = factor < 1 ? `${Math.round(1 / factor)}x` : factor === 1 ? "even" : `${factor}x`;
    parts.push(
      `<line x1="${x}" y1="${top - 4}" x2="${x}" y2="${axisBottom}" stroke="${factor === 1 ? "#333333" : "#dddddd"}"/>`,
      `<text x="${x}" y="${axisBottom + 16}" text-anchor="middle" fill="#555555">${label}</text>`,
    );
  }
  rows.forEach((row, i) => {
    const y = top + i * rowHeight;
    if ("heading" in row) {
      parts.push(`<text x="10" y="${y + 15}" font-weight="bold">${escapeXml(row.heading)}</text>`);
      return;
    }
    const r = row.result;
    parts.push(
      `<text x="${labelWidth}" y="${y + 15}" text-anchor="end">${escapeXml(r.figure.label)}</text>`,
    );
    const a = advantage(r.ratio, r.figure.better);
    if (a === undefined) {
      parts.push(`<text x="${xOf(1) + 6}" y="${y + 15}" fill="#999999">${whyNoRatio(r)}</text>`);
      return;
    }
    const x0 = xOf(1);
    const x1 = xOf(a);
    const color = a >= 1 ? colors.conveyor : colors.bullmq;
    const text = escapeXml(verdict(r.ratio, r.figure.better));
    // A bar that reaches the edge carries its label inside, in white.
    const atEdge = a >= 1 ? x1 > plotLeft + plotWidth - 80 : x1 < plotLeft + 80;
    const textX = atEdge ? (a >= 1 ? x1 - 4 : x1 + 4) : a >= 1 ? x1 + 4 : x1 - 4;
    const anchor = a >= 1 === atEdge ? "end" : "start";
    parts.push(
      `<rect x="${Math.min(x0, x1)}" y="${y + 4}" width="${Math.max(1, Math.abs(x1 - x0))}" height="${rowHeight - 8}" fill="${color}"/>`,
      `<text x="${textX}" y="${y + 15}" text-anchor="${anchor}" fill="${atEdge ? "#ffffff" : "#333333"}">${text}</text>`,
    );
  });
  parts.push(
    `<text x="10" y="${height - 10}" fill="#555555">Bars: how many times better one system does on the figure (median of the repetitions; throughput higher, latency and resources lower is better).</text>`,
    "</svg>",
  );
  return `${parts.join("\n")}\n`;
}

/** Why a figure has no ratio: a side without a value, or a zero to divide by. */
export function whyNoRatio(r: FigureResult): string {
  if (r.conveyor.n === 0 && r.bullmq.n === 0) return "no values";
  if (r.conveyor.n === 0) return "no Conveyor value";
  if (r.bullmq.n === 0) return "no BullMQ value";
  if (r.conveyor.median === 0 && r.bullmq.median === 0) return "both 0";
  return "no ratio (BullMQ 0)";
}
