import type { ProcessUsage } from "../metrics/process-sampler.ts";
import type { FigureSpec, Sample, SystemName } from "../report/figures.ts";
import { bullmqProcessNames } from "../systems/bullmq.ts";
import { conveyorProcessNames } from "../systems/conveyor.ts";

const processNames: Record<SystemName, readonly string[]> = {
  conveyor: conveyorProcessNames,
  bullmq: bullmqProcessNames,
};

/** What is reported of every process of both systems. */
export interface ProcessFigureOptions {
  /** Peak RSS (`rss.<name>`). */
  rss: boolean;
}

/** `cpu.total` and `cpu.<name>` (CPU seconds per 1,000 jobs), and with `rss` the peak RSS figures. */
export function processFigures(options: ProcessFigureOptions): FigureSpec[] {
  const perProcess = (Object.entries(processNames) as [SystemName, readonly string[]][]).flatMap(
    ([system, names]) =>
      names.flatMap((name) => [
        ...(options.rss
          ? [
              {
                key: `rss.${name}`,
                label: `peak RSS ${name}`,
                unit: "MiB",
                better: "lower" as const,
                only: system,
              },
            ]
          : []),
        {
          key: `cpu.${name}`,
          label: `CPU ${name}`,
          unit: "CPU s / 1k jobs",
          better: "lower" as const,
          only: system,
        },
      ]),
  );
  return [
    ...(options.rss
      ? [{ key: "rss.total", label: "sum of peak RSS", unit: "MiB", better: "lower" as const }]
      : []),
    { key: "cpu.total", label: "CPU, all processes", unit: "CPU s / 1k jobs", better: "lower" },
    ...perProcess,
  ];
}

/** Writes the {@link processFigures} of `usage` over `jobs` jobs into `sample`. */
export function recordProcessUsage(
  sample: Sample,
  usage: readonly ProcessUsage[],
  jobs: number,
  options: ProcessFigureOptions & { cpu: boolean },
): void {
  if (options.rss) {
    sample["rss.total"] = usage.reduce((sum, u) => sum + u.peakRssMib, 0);
    for (const u of usage) sample[`rss.${u.name}`] = u.peakRssMib;
  }
  if (options.cpu) {
    sample["cpu.total"] = (usage.reduce((sum, u) => sum + u.cpuSeconds, 0) * 1000) / jobs;
    for (const u of usage) sample[`cpu.${u.name}`] = (u.cpuSeconds * 1000) / jobs;
  }
}
