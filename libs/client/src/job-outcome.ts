import { LifecycleKind } from "@conveyor/contracts";
import type { JobEvent } from "@conveyor/contracts";

/** How a job's run ended: its `succeeded`, `dead` or `cancelled` event. */
export type JobOutcome = Extract<JobEvent, { kind: "succeeded" | "dead" | "cancelled" }>;

/** Whether `event` ends a run. */
export function isOutcome(event: JobEvent): event is JobOutcome {
  return (
    event.kind === LifecycleKind.Succeeded ||
    event.kind === LifecycleKind.Dead ||
    event.kind === LifecycleKind.Cancelled
  );
}

/**
 * The outcome of the job's newest run among `events` (any of its events, in any order), or
 * undefined while that run has none: a dead job replayed is not finished until its new run ends.
 * A run's success stands above its other ends (a worker that recorded `succeeded` but stopped
 * before acknowledging may see the job again, and what it does then does not undo the success).
 */
export function newestOutcome(events: Iterable<JobEvent>): JobOutcome | undefined {
  let run = 0;
  let outcome: JobOutcome | undefined;
  for (const event of events) {
    if (event.run > run) {
      run = event.run;
      outcome = undefined;
    }
    if (event.run === run && isOutcome(event) && endsBetter(event, outcome)) outcome = event;
  }
  return outcome;
}

function endsBetter(event: JobOutcome, than: JobOutcome | undefined): boolean {
  if (than === undefined) return true;
  if (than.kind === LifecycleKind.Succeeded) return false;
  return event.kind === LifecycleKind.Succeeded || event.attempt > than.attempt;
}
