import { jobStatuses } from "@conveyor/contracts";
import type { JobStatus } from "@conveyor/contracts";
import type { StatusTypeCount } from "@conveyor/read-model";

import type { Stats } from "../schemas/stats.ts";

type JobCounts = Stats["jobs"];
type StatusCounts = JobCounts["byStatus"];

/** Folds `(status, type, count)` rows into totals by status and by type, every status present. */
export function summarizeJobCounts(rows: readonly StatusTypeCount[]): JobCounts {
  const summary: JobCounts = { total: 0, byStatus: zeroCounts(), byType: {} };
  // A Map, not an object: a type may be named like an Object property (`constructor`).
  const byType = new Map<string, JobCounts["byType"][string]>();
  for (const { status, type, count } of rows) {
    let forType = byType.get(type);
    if (forType === undefined) {
      forType = { total: 0, byStatus: zeroCounts() };
      byType.set(type, forType);
    }
    summary.total += count;
    summary.byStatus[status] += count;
    forType.total += count;
    forType.byStatus[status] += count;
  }
  summary.byType = Object.fromEntries(byType);
  return summary;
}

function zeroCounts(): StatusCounts {
  return Object.fromEntries(jobStatuses.map((s: JobStatus) => [s, 0])) as StatusCounts;
}
