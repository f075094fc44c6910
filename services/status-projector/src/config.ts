import { ConsumerName } from "@conveyor/contracts";
import type { RetentionPolicy } from "@conveyor/read-model";
import { commonEnv, envInt, envMs, mongoEnv } from "@conveyor/service-kit";
import { z } from "zod";

/**
 * Longest hold either setting may ask for. A held event stays unacknowledged and is not kept
 * leased while it waits, so a hold must end well inside the projector consumers' 30 s ack wait,
 * or the server delivers the event again meanwhile.
 */
const maxHoldMs = 20_000;

const hourMs = 3_600_000;
const hoursToMs = (hours: number) => Math.round(hours * hourMs);

/** Hours the read model keeps a kind of finished document; 0 keeps it for good. */
const maxAgeHours = (fallback: number) =>
  z.coerce
    .number()
    .min(0, "must be 0 (keep for good) or a number of hours")
    .max(100 * 365 * 24, "must be at most 100 years")
    .default(fallback);

/** A durable consumer's name, as JetStream takes it. */
const consumerName = (fallback: string) =>
  z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,64}$/, "must be 1-64 of A-Z a-z 0-9 _ -")
    .default(fallback);

/** Environment of the status projector. */
export const projectorEnv = z.object({
  ...commonEnv,
  ...mongoEnv,
  /** Most events projected with one `find` and one `bulkWrite`. */
  PROJECTOR_BATCH_SIZE: envInt(1, 500),
  /** Most bytes of events (their bodies) projected together. */
  PROJECTOR_BATCH_MAX_BYTES: envInt(1, 8 * 1024 * 1024),
  /** How long to wait for more events to fill a batch once one has arrived, in milliseconds. */
  PROJECTOR_BATCH_LINGER_MS: envMs(0, 20),
  /** Longest the events of an unfinished job are held back to be written with its end, in milliseconds. */
  PROJECTOR_DEFER_MS: envMs(0, 1000, maxHoldMs),
  /** Longest the events of a job not in the read model yet are held back, in milliseconds. */
  PROJECTOR_NEW_JOB_DEFER_MS: envMs(0, 5000, maxHoldMs),
  /** Most events held back at once; past it the newest are written at once. */
  PROJECTOR_DEFER_LIMIT: envInt(0, 8000),
  /** Most bytes of events held back at once; one that does not fit is written at once. */
  PROJECTOR_DEFER_MAX_BYTES: envInt(0, 16 * 1024 * 1024),
  /** Most job documents kept in memory after writing them; 0 reads every one back. */
  PROJECTOR_CACHE_SIZE: envInt(0, 10_000),
  /** How long succeeded and cancelled jobs stay in the read model after they finished. */
  FINISHED_JOBS_MAX_AGE_HOURS: maxAgeHours(7 * 24),
  /** How long dead jobs, and replayed or discarded dead letters, stay (at least as long as `DLQ` keeps letters). */
  DEAD_JOBS_MAX_AGE_HOURS: maxAgeHours(31 * 24),
  /** How long refused submissions stay. */
  REJECTIONS_MAX_AGE_HOURS: maxAgeHours(7 * 24),
  /** Time between two sweeps for expired documents, in milliseconds (at most a week). */
  READ_MODEL_SWEEP_INTERVAL_MS: envMs(10, 60_000, 7 * 24 * hourMs),
  /**
   * The durable consumer of `EVENTS` it reads; another name (created from the start if missing)
   * runs a second projector that rebuilds the read model into another database.
   */
  PROJECTOR_CONSUMER: consumerName(ConsumerName.Projector),
  /** The durable consumer of `DLQ` it reads, as `PROJECTOR_CONSUMER`. */
  PROJECTOR_DLQ_CONSUMER: consumerName(ConsumerName.ProjectorDeadLetters),
});
export type ProjectorEnv = z.infer<typeof projectorEnv>;

/**
 * How much longer than the `DLQ` keeps a letter the read model keeps what a replay of it needs: the
 * `DLQ` ages a letter from when it stored it, a moment after the `deadAt` and `finishedAt` the
 * read model ages from (by the publisher's clock, which may also run behind the server's).
 */
export const dlqAgeMarginMs = 24 * hourMs;

/**
 * The read model's retention from the environment and the `DLQ`'s max age (0: kept for good). A
 * dead letter still waiting in the `DLQ` is kept as long as the `DLQ` keeps the letter itself, plus
 * {@link dlqAgeMarginMs}, whatever the settings: after that a replay of it would do nothing. A dead
 * job, and a replayed or discarded letter, is kept at least as long, since a replay of the job's
 * letter continues its document (the attempts and errors of every run).
 */
export function retentionPolicy(env: ProjectorEnv, dlqMaxAgeMs: number): RetentionPolicy {
  const openDeadLettersMs = dlqMaxAgeMs === 0 ? 0 : dlqMaxAgeMs + dlqAgeMarginMs;
  return {
    finishedJobsMs: hoursToMs(env.FINISHED_JOBS_MAX_AGE_HOURS),
    deadJobsMs: deadJobsAge(hoursToMs(env.DEAD_JOBS_MAX_AGE_HOURS), openDeadLettersMs),
    openDeadLettersMs,
    rejectionsMs: hoursToMs(env.REJECTIONS_MAX_AGE_HOURS),
  };
}

function deadJobsAge(configuredMs: number, openDeadLettersMs: number): number {
  if (configuredMs === 0 || openDeadLettersMs === 0) return 0;
  return Math.max(configuredMs, openDeadLettersMs);
}

/**
 * Why the dead jobs' age in effect is not `DEAD_JOBS_MAX_AGE_HOURS`, when the `DLQ` keeps letters
 * longer than it says; undefined when it holds (the one-day margin aside).
 */
export function deadJobsAgeOverride(env: ProjectorEnv, dlqMaxAgeMs: number): string | undefined {
  const configuredMs = hoursToMs(env.DEAD_JOBS_MAX_AGE_HOURS);
  if (configuredMs === 0) return undefined;
  if (dlqMaxAgeMs === 0) {
    return "dead jobs are kept for good: the DLQ keeps their letters for good, and a replay continues the job's document";
  }
  if (configuredMs >= dlqMaxAgeMs) return undefined;
  return "dead jobs are kept as long as the DLQ keeps their letters: a replay continues the job's document";
}
