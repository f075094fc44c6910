import { Counter } from "prom-client";
import type { Registry } from "prom-client";

/** How the dead-letterer came to a work message that ran out of deliveries. */
export type FoundBy = "advisory" | "scan";

/** Told of every job the dead-letterer moved to the DLQ, for metrics. */
export interface DeadLetterObserver {
  /** A job of `type` was dead-lettered; `foundBy` a scan means its advisory was never handled. */
  deadLettered: (type: string, foundBy: FoundBy) => void;
}

/** What can find a job to dead-letter. */
const foundBy: readonly FoundBy[] = ["advisory", "scan"];

/**
 * The dead-letterer's letters as `conveyor_jobs_dead_lettered_total{type, found_by}`: jobs whose
 * deliveries ran out without their worker recording an outcome (a worker that crashed or hung on
 * every attempt). Jobs a worker dead-letters itself are its `dead` attempts. The type comes from
 * the work subject, so it is one the dispatcher queued: a bounded set. Every type registered when
 * a scrape comes is served from 0, so that `rate()` sees a type's first letter, rare as letters are.
 */
export function deadLetterMetrics(
  registry: Registry,
  registeredTypes: () => readonly string[],
): DeadLetterObserver {
  const deadLettered: Counter = new Counter({
    name: "conveyor_jobs_dead_lettered_total",
    help: "Jobs the dispatcher dead-lettered after their deliveries ran out with no outcome recorded, by type and by what found them (advisory, or scan of WORK for a lost advisory).",
    labelNames: ["type", "found_by"],
    registers: [registry],
    collect: () => {
      for (const type of registeredTypes()) {
        for (const by of foundBy) deadLettered.inc({ type, found_by: by }, 0);
      }
    },
  });
  return {
    deadLettered: (type, by) => {
      deadLettered.inc({ type, found_by: by });
    },
  };
}
