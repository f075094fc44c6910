import type { ProcessUsage } from "../metrics/process-sampler.ts";
import type { FigureSpec, Sample, SystemName } from "../report/figures.ts";
import { bullmqProcessNames } from "../systems/bullmq.ts";
import { conveyorProcessNames } from "../systems/conveyor.ts";

const processNames: Record<SystemName, readonly string[]> = {
  conveyor: conveyorProcessNames,
  bullmq: bullmqProcessNames,
};

/** What is reported of every process of both systems, and over what. */
export interface ProcessFigureOptions {
  /**
   * `load`: a workload's jobs, with each process's peak RSS and its CPU per 1,000 jobs; `rest`: an
   * idle window, with the RSS each process holds and its CPU per second of doing nothing.
   */
  over: "load" | "rest";
  /** Whether RSS is reported (`rss.total`, `rss.<name>`). */
  rss: boolean;
}

const wording = {
  load: {
    rss: "peak RSS",
    rssTotal: "sum of peak RSS",
    cpu: "CPU",
    cpuTotal: "CPU, all processes",
    cpuUnit: "CPU s / 1k jobs",
  },
  rest: {
    rss: "RSS at rest",
    rssTotal: "sum of RSS at rest",
    cpu: "CPU at rest",
    cpuTotal: "CPU at rest, all processes",
    cpuUnit: "CPU ms / s",
  },
} as const;

/** `cpu.total` and `cpu.<name>`, and with `rss` the RSS figures, worded for `over`. */
export function processFigures(options: ProcessFigureOptions): FigureSpec[] {
  const words = wording[options.over];
  const perProcess = (Object.entries(processNames) as [SystemName, readonly string[]][]).flatMap(
    ([system, names]) =>
      names.flatMap((name) => [
        ...(options.rss
          ? [
              {
                key: `rss.${name}`,
                label: `${words.rss} ${name}`,
                unit: "MiB",
                better: "lower" as const,
                only: system,
              },
            ]
          : []),
        {
          key: `cpu.${name}`,
          label: `${words.cpu} ${name}`,
          unit: words.cpuUnit,
          better: "lower" as const,
          only: system,
        },
      ]),
  );
  return [
    ...(options.rss
      ? [{ key: "rss.total", label: words.rssTotal, unit: "MiB", better: "lower" as const }]
      : []),
    { key: "cpu.total", label: words.cpuTotal, unit: words.cpuUnit, better: "lower" },
    ...perProcess,
  ];
}

/**
 * Writes the {@link processFigures} of `usage` into `sample`: CPU as milliseconds per `per`, which
 * is the number of jobs (CPU seconds per 1,000 jobs) or, at rest, the seconds watched (CPU
 * milliseconds per second).
 */
export function recordProcessUsage(
  sample: Sample,
  usage: readonly ProcessUsage[],
  per: number,
  options: { rss: boolean; cpu: boolean },
): void {
  if (options.rss) {
    sample["rss.total"] = usage.reduce((sum, u) => sum + u.peakRssMib, 0);
    for (const u of usage) sample[`rss.${u.name}`] = u.peakRssMib;
  }
  if (options.cpu) {
    sample["cpu.total"] = (usage.reduce((sum, u) => sum + u.cpuSeconds, 0) * 1000) / per;
    for (const u of usage) sample[`cpu.${u.name}`] = (u.cpuSeconds * 1000) / per;
  }
}
