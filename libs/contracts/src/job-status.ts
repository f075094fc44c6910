/** Where a job is in its life. `failed` means an attempt failed and another will follow. */
export const JobStatus = {
  Queued: "queued",
  Running: "running",
  Failed: "failed",
  Succeeded: "succeeded",
  Dead: "dead",
  Cancelled: "cancelled",
} as const;
export type JobStatus = (typeof JobStatus)[keyof typeof JobStatus];

export const jobStatuses: readonly JobStatus[] = Object.values(JobStatus);

/** Statuses a job never leaves (until a replay starts a new run). */
export const terminalStatuses: ReadonlySet<JobStatus> = new Set([
  JobStatus.Succeeded,
  JobStatus.Dead,
  JobStatus.Cancelled,
]);

export function isTerminal(status: JobStatus): boolean {
  return terminalStatuses.has(status);
}
