import { JobStatus } from "./job-status.ts";

/**
 * Orders statuses reached within one attempt. `progress` counts as `running`. Among terminal
 * statuses of the same attempt a success wins (the work was done), then an explicit cancel.
 */
const statusRank: Readonly<Record<JobStatus, number>> = {
  queued: 0,
  running: 1,
  failed: 2,
  dead: 3,
  cancelled: 4,
  succeeded: 5,
};

/** A status a job reached, in a run and attempt: a job document's, or the one an event records. */
export interface StatusFact {
  run: number;
  attempt: number;
  status: JobStatus;
}

/**
 * The order of a job's status facts, as a tuple to compare element by element: by run, then
 * within a run a success above any other status, the first success above later ones, then by
 * attempt and by rank. A run's work is done once it succeeded: a worker that stored `succeeded`
 * but stopped before acknowledging gets its work delivered again, and what that attempt does
 * (fail, run out of attempts) does not undo the success. The read model's status and
 * `JobClient.waitFor` both follow it.
 */
export function statusOrderKey({ run, attempt, status }: StatusFact): number[] {
  const succeeded = status === JobStatus.Succeeded;
  return [run, succeeded ? 1 : 0, succeeded ? -attempt : attempt, statusRank[status]];
}

/** Compares number tuples lexicographically (keys of {@link statusOrderKey}): negative, zero or positive. */
export function compareTuples(a: readonly number[], b: readonly number[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const diff = (a[i] ?? 0) - (b[i] ?? 0);
    if (diff !== 0) return diff;
  }
  return 0;
}
