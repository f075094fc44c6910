/** What `--trace-gc-nvp` reported over a process's life. */
export interface GcSummary {
  /** Young-generation collections (scavenges, `gc=s`). */
  young: number;
  /** Full collections (`gc=mc`). */
  full: number;
  /** Bytes the young collections found alive, summed over all of them, in MiB. */
  survivedMiB: number;
  /** Bytes the young collections moved to the old generation, summed, in MiB: kept until a full one. */
  promotedMiB: number;
  /** Pauses of every collection, summed, in milliseconds. */
  pauseMs: number;
}

/** Sums the `--trace-gc-nvp` lines in `output`; other lines are ignored. */
export function summarizeNvp(output: string): GcSummary {
  const summary: GcSummary = { young: 0, full: 0, survivedMiB: 0, promotedMiB: 0, pauseMs: 0 };
  for (const line of output.split("\n")) {
    const kind = /\bgc=(\w+)/.exec(line)?.[1];
    if (kind === undefined) continue;
    summary.pauseMs += Number(/\bpause=([\d.]+)/.exec(line)?.[1] ?? 0);
    if (kind === "s") {
      summary.young++;
      summary.survivedMiB += mib(/\bnew_space_survived=(\d+)/.exec(line)?.[1]);
      summary.promotedMiB += mib(/\bpromoted=(\d+)/.exec(line)?.[1]);
    } else if (kind === "mc") {
      summary.full++;
    }
  }
  return summary;
}

function mib(bytes: string | undefined): number {
  return Number(bytes ?? 0) / 1048576;
}
