import { Counter } from "prom-client";
import type { Registry } from "prom-client";

/** Told what the dispatcher made of the submissions it settled, for metrics. */
export interface DispatchObserver {
  /** `jobs` jobs of a registered `type` were queued. */
  queued: (type: string, jobs: number) => void;
  /** `jobs` jobs (or unreadable messages) were refused, and recorded, for `reason`. */
  rejected: (reason: string, jobs: number) => void;
}

/**
 * The dispatcher's decisions as counters: `conveyor_jobs_queued_total{type}` and
 * `conveyor_jobs_rejected_total{reason}`. A refusal is labelled by its reason only: its type may
 * be anything a publisher sent, and labels must stay a bounded set.
 */
export function dispatchMetrics(registry: Registry): DispatchObserver {
  const queued = new Counter({
    name: "conveyor_jobs_queued_total",
    help: "Jobs the dispatcher queued (work item stored), by type.",
    labelNames: ["type"],
    registers: [registry],
  });
  const rejected = new Counter({
    name: "conveyor_jobs_rejected_total",
    help: "Submissions the dispatcher refused and recorded as rejections (GET /v1/rejections), by reason: a job of a bulk each, an unreadable message one.",
    labelNames: ["reason"],
    registers: [registry],
  });
  return {
    queued: (type, jobs) => {
      queued.inc({ type }, jobs);
    },
    rejected: (reason, jobs) => {
      rejected.inc({ reason }, jobs);
    },
  };
}
