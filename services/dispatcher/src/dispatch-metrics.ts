import { BytesRejection, SubmissionRejection } from "@conveyor/job-registry";
import { Counter } from "prom-client";
import type { Registry } from "prom-client";

import { invalidHeadersReason, unprocessableReason } from "./intake.ts";

/** Every reason the dispatcher records a refusal for. */
export const rejectionReasons: readonly string[] = [
  ...Object.values(BytesRejection),
  ...Object.values(SubmissionRejection),
  invalidHeadersReason,
  unprocessableReason,
];

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
 * be anything a publisher sent, and labels must stay a bounded set. Every reason, and every type
 * registered when a scrape comes, is served from 0: a series first scraped at a later value has
 * no earlier one, and `rate()` or `increase()` would miss what it counted first.
 */
export function dispatchMetrics(
  registry: Registry,
  registeredTypes: () => readonly string[],
): DispatchObserver {
  const queued: Counter = new Counter({
    name: "conveyor_jobs_queued_total",
    help: "Jobs the dispatcher queued (work item stored), by type.",
    labelNames: ["type"],
    registers: [registry],
    collect: () => {
      for (const type of registeredTypes()) queued.inc({ type }, 0);
    },
  });
  const rejected = new Counter({
    name: "conveyor_jobs_rejected_total",
    help: "Submissions the dispatcher refused and recorded as rejections (GET /v1/rejections), by reason: a job of a bulk each, an unreadable message one.",
    labelNames: ["reason"],
    registers: [registry],
  });
  for (const reason of rejectionReasons) rejected.inc({ reason }, 0);
  return {
    queued: (type, jobs) => {
      queued.inc({ type }, jobs);
    },
    rejected: (reason, jobs) => {
      rejected.inc({ reason }, jobs);
    },
  };
}
