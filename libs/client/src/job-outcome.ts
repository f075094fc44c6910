import { JobStatus, LifecycleKind, compareTuples, statusOrderKey } from "@conveyor/contracts";
import type { JobEvent } from "@conveyor/contracts";

/** How a job's run ended: its `succeeded`, `dead` or `cancelled` event. */
export type JobOutcome = Extract<JobEvent, { kind: "succeeded" | "dead" | "cancelled" }>;

/** The status an event records, as the read model reads it (`started`, `progress`: running). */
const statusOfKind: Readonly<Record<JobEvent["kind"], JobStatus>> = {
  queued: JobStatus.Queued,
  started: JobStatus.Running,
  progress: JobStatus.Running,
  failed: JobStatus.Failed,
  succeeded: JobStatus.Succeeded,
  dead: JobStatus.Dead,
  cancelled: JobStatus.Cancelled,
};

/** Where an event ranks among a job's events, as the read model orders them (`statusOrderKey`). */
export function eventOrderKey(event: JobEvent): number[] {
  return statusOrderKey({ ...event, status: statusOfKind[event.kind] });
}

/**
 * A job's events folded to the one that sets its status, as the read model orders them
 * (`statusOrderKey`): by run, a success above the rest of its run, then by attempt and rank. A
 * `cancelled` for an attempt that a later attempt's `started` follows is not the job's end, nor is
 * a dead run that a replay's `queued` follows. Keeps one event, whatever the number folded.
 */
export class JobStatusFold {
  #top: JobEvent | undefined;
  #key: number[] = [];

  add(event: JobEvent): void {
    const key = eventOrderKey(event);
    // Of two facts of equal rank, the first folded stays.
    if (this.#top === undefined || compareTuples(key, this.#key) > 0) {
      this.#top = event;
      this.#key = key;
    }
  }

  /** Whether any event of the job was folded. */
  get known(): boolean {
    return this.#top !== undefined;
  }

  /** The event that ended the job's newest run, once the job's status is such an end. */
  get outcome(): JobOutcome | undefined {
    const top = this.#top;
    return top !== undefined && isOutcome(top) ? top : undefined;
  }
}

/** The outcome the events make, in any order: {@link JobStatusFold}. */
export function newestOutcome(events: Iterable<JobEvent>): JobOutcome | undefined {
  const fold = new JobStatusFold();
  for (const event of events) fold.add(event);
  return fold.outcome;
}

function isOutcome(event: JobEvent): event is JobOutcome {
  return (
    event.kind === LifecycleKind.Succeeded ||
    event.kind === LifecycleKind.Dead ||
    event.kind === LifecycleKind.Cancelled
  );
}
