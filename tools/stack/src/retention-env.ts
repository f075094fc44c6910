import { defaultMaxAgeMs } from "@conveyor/topology";
import type { TopologyOptions } from "@conveyor/topology";
import { z } from "zod";

const hourMs = 3_600_000;

/**
 * Hours a stream keeps its messages. At least one: `JOBS`' duplicate window is an hour, and
 * JetStream refuses a stream whose messages age out before their ids do.
 */
const retentionHours = z.coerce
  .number()
  .min(1, "must be at least 1 (hour)")
  .max(100 * 365 * 24, "must be at most 100 years")
  .default(defaultMaxAgeMs / hourMs);

/**
 * How long `EVENTS` and `JOBS` keep their messages, from the environment (`EVENTS_MAX_AGE_HOURS`,
 * `JOBS_MAX_AGE_HOURS`; the topology's default, a week, when unset). Every job `EVENTS` keeps costs nats-server
 * memory (docs/topology.md, "Sizing nats-server's memory"), so a high job rate calls for a shorter window.
 */
export const retentionEnv = {
  EVENTS_MAX_AGE_HOURS: retentionHours,
  JOBS_MAX_AGE_HOURS: retentionHours,
};

export type RetentionOptions = Required<Pick<TopologyOptions, "eventsMaxAgeMs" | "jobsMaxAgeMs">>;

/** The topology options of parsed {@link retentionEnv} values. */
export function retentionOptions(parsed: {
  EVENTS_MAX_AGE_HOURS: number;
  JOBS_MAX_AGE_HOURS: number;
}): RetentionOptions {
  return {
    eventsMaxAgeMs: Math.round(parsed.EVENTS_MAX_AGE_HOURS * hourMs),
    jobsMaxAgeMs: Math.round(parsed.JOBS_MAX_AGE_HOURS * hourMs),
  };
}
