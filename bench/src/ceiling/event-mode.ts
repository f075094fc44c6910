/** The job type the diagnostic's jobs have (its own work consumer). */
export const ceilingJobType = "bench.ceiling";

/**
 * How the pipeline of the ceiling diagnostic records a job's lifecycle in `EVENTS`:
 *
 * - `per-job`: as Conveyor does, a `queued` and a `succeeded` message on the job's own subjects,
 *   each waited for (PubAck) before the message that caused it is acknowledged;
 * - `batched-outcomes`: a `queued` message per job as in `per-job`, but the worker's outcomes
 *   as one message per turn, listing the jobs that ended in it;
 * - `batched`: one message per batch of jobs decided together (a dispatcher batch, a worker's
 *   turn), listing them;
 * - `none`: no events and no projector: the submission and the work item alone.
 */
export type EventMode = "per-job" | "batched-outcomes" | "batched" | "none";

export const eventModes: readonly EventMode[] = ["per-job", "batched-outcomes", "batched", "none"];

export function parseEventMode(text: string | undefined): EventMode {
  const mode = eventModes.find((known) => known === text);
  if (mode === undefined) {
    throw new Error(`event mode must be one of ${eventModes.join(", ")}; got ${String(text)}`);
  }
  return mode;
}

/**
 * How the diagnostic submits its jobs: `single`, a message per job on `jobs.submit.<type>`; `bulk`,
 * a bulk submission of 100 jobs per message on `jobs.bulk.<type>`, as the bench's saturated
 * workload submits Conveyor's jobs.
 */
export type SubmitMode = "single" | "bulk";

export function parseSubmitMode(text: string | undefined): SubmitMode {
  if (text === "single" || text === "bulk") return text;
  throw new Error(`submission mode must be single or bulk; got ${String(text)}`);
}
