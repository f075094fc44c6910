import { JobTypeDescriptor, JobTypeName, maxScheduleDelayMs } from "@conveyor/contracts";
import { z } from "zod";

export const JobTypeList = z.object({ items: z.array(JobTypeDescriptor) });

/** Path parameters of `/v1/job-types/:type/...`. */
export const JobTypeParams = z.object({ type: JobTypeName });

/** The longest pause with an end of its own: a year, as for a scheduled job's `runAt`. */
const maxPauseMs = maxScheduleDelayMs;

/** Body of `POST /v1/job-types/:type/pause` (optional). */
export const PauseRequest = z
  .object({
    /** When the type resumes by itself (ISO 8601 with `Z` or an offset); absent: when resumed. */
    until: z.iso
      // A time that cannot be read is not also said to be in the past.
      .datetime({ offset: true, abort: true })
      .refine((until) => Date.parse(until) > Date.now(), "must be in the future")
      // Beyond that, leave `until` out: the type stays paused until resumed.
      .refine(
        (until) => Date.parse(until) <= Date.now() + maxPauseMs,
        "must be at most a year ahead (leave it out to pause until resumed)",
      )
      .optional(),
  })
  .strict();

/** Whether a type's work consumer delivers its jobs. */
export const PauseState = z.object({
  type: JobTypeName,
  paused: z.boolean(),
  /** When a paused type resumes by itself; absent while it waits to be resumed. */
  pausedUntil: z.iso.datetime().optional(),
});
export type PauseState = z.output<typeof PauseState>;
