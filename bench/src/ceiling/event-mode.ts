import { ConsumerName, StreamName } from "@conveyor/contracts";

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
 * - `work-as-queued`: no `queued` message: the work item, on a subject of its job
 *   (`work.<jobId>.<type>`), is the job's queued record. `WORK` keeps it (interest retention
 *   instead of a work queue) until both the worker's consumer and a projector consumer on `WORK`
 *   have acknowledged it; the `succeeded` message per job as in `per-job`;
 * - `none`: no events and no projector: the submission and the work item alone.
 */
export type EventMode = "per-job" | "batched-outcomes" | "batched" | "work-as-queued" | "none";

export const eventModes: readonly EventMode[] = [
  "per-job",
  "batched-outcomes",
  "batched",
  "work-as-queued",
  "none",
];

/** Durable consumers of `WORK` in the `work-as-queued` mode: the worker's and the projector's. */
export const workAsQueuedConsumers = {
  worker: "ceiling_work",
  projector: "ceiling_projector_work",
} as const;

/**
 * The durable consumers the projector role reads in `mode`, as `[stream, consumer]`: the events
 * consumer, and in `work-as-queued` the one on `WORK` whose work items are the jobs' queued records.
 */
export function projectorMailboxes(mode: EventMode): [stream: string, consumer: string][] {
  const mailboxes: [string, string][] = [[StreamName.Events, ConsumerName.Projector]];
  if (mode === "work-as-queued") mailboxes.push([StreamName.Work, workAsQueuedConsumers.projector]);
  return mailboxes;
}

/** The subject of a job's work item in the `work-as-queued` mode. */
export function workAsQueuedSubject(jobId: string): string {
  return `work.${jobId}.${ceilingJobType}`;
}

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
