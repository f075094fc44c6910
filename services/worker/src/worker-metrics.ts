import { registerScrapedGauge } from "@conveyor/service-kit";
import type { Logger } from "@conveyor/service-kit";
import type { AppliedOutcome, AttemptReport, TypeBacklog } from "@conveyor/worker-sdk";
import { Counter, Histogram } from "prom-client";
import type { Registry } from "prom-client";

/** Handler durations worth telling apart, in seconds: a no-op to a long batch job. */
const durationBuckets = [0.001, 0.005, 0.025, 0.1, 0.25, 1, 2.5, 10, 30, 120, 600];

/** Every outcome an attempt can end with (a record, so that the compiler checks it is all). */
const outcomeSet: Record<AppliedOutcome, true> = {
  succeeded: true,
  retry: true,
  dead: true,
  cancelled: true,
  unrecorded: true,
};
const appliedOutcomes = Object.keys(outcomeSet) as AppliedOutcome[];

/** The worker's metrics: its attempts as they end, and the queues of the types it runs. */
export interface WorkerMetrics {
  /** For `createWorker`'s `onAttemptEnd`. */
  onAttemptEnd: (report: AttemptReport) => void;
  /** Reports these queues at every scrape (asked of the server then). */
  watchQueues: (backlog: () => Promise<TypeBacklog[]>) => void;
}

/**
 * The worker's metrics for the job `types` it runs. Every type's attempt counters start at 0:
 * a series first scraped at 1 has no earlier value, and `rate()` or `increase()` would miss that
 * first attempt (the one dead job of a quiet type, say).
 */
export function workerMetrics(
  registry: Registry,
  logger: Logger,
  types: readonly string[],
): WorkerMetrics {
  const attempts = new Counter({
    name: "conveyor_job_attempts_total",
    help: "Job attempts this worker ended, by type and by what was done with them: succeeded, retry, dead, cancelled, or unrecorded (its outcome could not be stored, so it runs again).",
    labelNames: ["type", "outcome"],
    registers: [registry],
  });
  const durations = new Histogram({
    name: "conveyor_job_attempt_duration_seconds",
    help: "How long handlers ran, by type and outcome (attempts whose handler never ran are left out).",
    labelNames: ["type", "outcome"],
    buckets: durationBuckets,
    registers: [registry],
  });
  const rateLimitWaits = new Histogram({
    name: "conveyor_job_rate_limit_wait_seconds",
    help: "How long attempts of a rate-limited type waited for their start to be counted, by type (attempts that did not wait are left out).",
    labelNames: ["type"],
    buckets: durationBuckets,
    registers: [registry],
  });
  for (const type of types) {
    for (const outcome of appliedOutcomes) attempts.inc({ type, outcome }, 0);
  }
  let backlog: (() => Promise<TypeBacklog[]>) | undefined;
  // Read at each scrape: the queue lives in JetStream, not in this worker.
  registerScrapedGauge(registry, logger, {
    name: "conveyor_queue_jobs",
    help: "Jobs of each type this worker runs, as the type's work consumers (one per priority) count them across all workers: waiting (not delivered yet) or in_flight (delivered and not acknowledged: running, being recorded, or failed and waiting out their retry delay).",
    labelNames: ["type", "state"],
    what: "the work queues",
    read: async () =>
      (backlog === undefined ? [] : await backlog()).flatMap(({ type, waiting, inFlight }) => [
        { labels: { type, state: "waiting" }, value: waiting },
        { labels: { type, state: "in_flight" }, value: inFlight },
      ]),
  });
  registerScrapedGauge(registry, logger, {
    name: "conveyor_queue_paused",
    help: "1 while the type is paused (POST /v1/job-types/:type/pause: its work consumers hand no job to any worker), else 0.",
    labelNames: ["type"],
    what: "the work queues' pauses",
    read: async () =>
      (backlog === undefined ? [] : await backlog()).map(({ type, paused }) => ({
        labels: { type },
        value: paused ? 1 : 0,
      })),
  });
  return {
    onAttemptEnd: ({ type, outcome, durationMs, rateLimitedMs }) => {
      attempts.inc({ type, outcome });
      if (durationMs !== undefined) durations.observe({ type, outcome }, durationMs / 1000);
      if (rateLimitedMs > 0) rateLimitWaits.observe({ type }, rateLimitedMs / 1000);
    },
    watchQueues: (source) => {
      backlog = source;
    },
  };
}
