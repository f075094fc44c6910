import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";

import type { WorkloadRun } from "../runner.ts";
import type { FigureResult } from "./figures.ts";
import { machineSummary } from "./machine.ts";
import type { MachineInfo } from "./machine.ts";
import { renderChart } from "./svg-chart.ts";
import { comparisonTable, detailTable } from "./table.ts";

/** Everything a run produced, as written to JSON. */
export interface RunReport {
  mode: string;
  startedAt: string;
  durationS: number;
  repetitions: number;
  /** Handlers per type at once per worker process, on both systems. */
  workerConcurrency: number;
  machine: MachineInfo;
  workloads: WorkloadRun[];
  results: FigureResult[];
}

/** Workload id -> title, for the tables and the chart. */
export function workloadTitles(report: RunReport): Record<string, string> {
  return Object.fromEntries(report.workloads.map((w) => [w.id, w.title]));
}

/** The comparison and per-process tables as Markdown, with the machine they were measured on. */
export function renderMarkdown(report: RunReport): string {
  const titles = workloadTitles(report);
  const m = report.machine;
  const errors = report.workloads.flatMap((w) =>
    w.errors.map((e) => `- ${w.title}: ${e.split("\n")[0] ?? ""}`),
  );
  const notes = report.workloads.flatMap((w) => w.notes.map((n) => `- after ${w.title}: ${n}`));
  return [
    `Conveyor vs BullMQ, ${report.mode} run of ${report.startedAt} (${report.durationS.toFixed(0)} s): ` +
      `median of ${report.repetitions} repetitions (min–max), worker concurrency ${report.workerConcurrency}.`,
    `Machine: ${machineSummary(m)}; ` +
      `Node ${m.node}, ${m.natsServer}, ${m.ferretdb}, ${m.redis}, BullMQ ${m.bullmq}.`,
    "",
    comparisonTable(report.results, titles),
    "",
    ...(report.results.some((r) => r.figure.only !== undefined)
      ? [
          "Per process: RSS (peak under load, or at rest) and CPU (seconds per 1,000 jobs under load, milliseconds per second at rest).",
          "",
          detailTable(report.results, titles),
        ]
      : []),
    ...(errors.length > 0 ? ["", "Failed repetitions:", "", ...errors] : []),
    ...(notes.length > 0 ? ["", "Still catching up after a workload:", "", ...notes] : []),
    "",
  ].join("\n");
}

/**
 * Writes `<name>.json`, `<name>.svg` and `<name>.md` into `dir`, returning the paths written.
 */
export async function writeResults(
  report: RunReport,
  dir: string,
  name: string,
): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  const chart = renderChart(report.results, {
    title: `Conveyor vs BullMQ (${report.mode} run)`,
    subtitle: `${report.startedAt}, ${report.machine.cores} cores ${report.machine.cpuModel}, median of ${report.repetitions} repetitions`,
    workloadTitles: workloadTitles(report),
  });
  const files: [string, string][] = [
    [join(dir, `${name}.json`), `${JSON.stringify(report, jsonNumbers, 2)}\n`],
    [join(dir, `${name}.svg`), chart],
    [join(dir, `${name}.md`), renderMarkdown(report)],
  ];
  await Promise.all(files.map(([path, text]) => writeFile(path, text)));
  return files.map(([path]) => path);
}

/** JSON has no NaN: a figure that was not measured is written as null. */
function jsonNumbers(_key: string, value: unknown): unknown {
  return typeof value === "number" && !Number.isFinite(value) ? null : value;
}
