import { z } from "zod";

import { jsonOrUndefined } from "./json-or-undefined.ts";

import { JobSubmission, SubmissionSource } from "./submission.ts";
import { toValidationIssues } from "./validation-issues.ts";
import type { ValidationIssue } from "./events.ts";

/**
 * A recurring schedule's name: one subject token (`schedule.cron.<name>`), short enough that a
 * job id made of it and a tick's time (`<name>-<epoch ms>`) is a job id.
 */
export const ScheduleName = z
  .string()
  .min(1)
  .max(48)
  .regex(/^[A-Za-z0-9_-]+$/, "name must be 1-48 characters of A-Z, a-z, 0-9, '-' and '_'");

/** The job a recurring schedule submits at every tick: an envelope without id, key or schedule. */
export const RecurringJob = JobSubmission.omit({
  id: true,
  idempotencyKey: true,
  runAt: true,
  delayMs: true,
});
export type RecurringJob = z.infer<typeof RecurringJob>;

/**
 * When a recurring schedule ticks, as nats-server's message scheduler reads it (ADR-51): `cron`,
 * six fields with seconds (`0 30 9 * * mon-fri`) or `@hourly`, `@daily`...; or `every`, a Go
 * duration (`90s`, `5m`, `1h30m`). Exactly one; times are UTC.
 */
export const RecurringScheduleInput = z
  .object({
    cron: z
      .string()
      .max(256)
      .regex(
        /^(?:@(?:yearly|annually|monthly|weekly|daily|midnight|hourly)|[^\s@]+(?: [^\s@]+){5})$/,
        "six fields separated by single spaces (the first is seconds), or @yearly, @annually, @monthly, @weekly, @daily, @midnight or @hourly",
      )
      .optional(),
    every: z
      .string()
      .max(64)
      .regex(
        /^(?:\d+(?:\.\d+)?(?:h|m|s|ms|us|µs|ns))+$/,
        "a duration such as 90s, 5m or 1h30m (h, m, s, ms); at least a second",
      )
      .optional(),
    job: RecurringJob,
  })
  .strict();
export type RecurringScheduleInput = z.input<typeof RecurringScheduleInput>;

/** A recurring schedule as stored on `schedule.cron.<name>` in `SCHEDULES`. */
export const RecurringSchedule = z.object({
  name: ScheduleName,
  cron: z.string().optional(),
  every: z.string().optional(),
  job: RecurringJob,
  /** Where it was made, which the jobs it submits are recorded as coming from. */
  source: z.enum([SubmissionSource.Rest, SubmissionSource.Nats]),
  updatedAt: z.iso.datetime(),
});
export type RecurringSchedule = z.infer<typeof RecurringSchedule>;

/** The `Nats-Schedule` header of a recurring schedule. */
export function recurrenceHeader(schedule: Pick<RecurringSchedule, "cron" | "every">): string {
  return schedule.every !== undefined ? `@every ${schedule.every}` : (schedule.cron ?? "");
}

/**
 * The id of the job a tick submits: the schedule's name and the tick's time, so that a tick
 * delivered again submits the same job.
 */
export function recurringJobId(name: string, tickAt: Date): string {
  return `${name}-${String(tickAt.getTime())}`;
}

/** A stored recurring schedule as read, or why it is none. */
export type ReadRecurringSchedule =
  | { ok: true; schedule: RecurringSchedule }
  | { ok: false; message: string; issues: ValidationIssue[] };

/**
 * Reads a message held as the recurring schedule `name` (on `schedule.cron.<name>`, or its tick):
 * a body naming another schedule is refused, as its jobs would be submitted under the other's
 * ids. Never throws: a body nested too deep for the validator is refused too.
 */
export function readRecurringSchedule(
  body: Uint8Array | string,
  name: string | undefined,
): ReadRecurringSchedule {
  let parsed: ReturnType<typeof RecurringSchedule.safeParse>;
  try {
    parsed = RecurringSchedule.safeParse(jsonOrUndefined(body));
  } catch (err) {
    const message = `it could not be read: ${err instanceof Error ? err.message : String(err)}`;
    return { ok: false, message, issues: [{ path: "job.payload", message }] };
  }
  if (!parsed.success) {
    const issues = toValidationIssues(parsed.error);
    const message = issues.map((issue) => `${issue.path}: ${issue.message}`).join("; ");
    return { ok: false, message, issues };
  }
  if (parsed.data.name !== name) {
    const message = `it names ${parsed.data.name} but is the schedule ${String(name)}`;
    return { ok: false, message, issues: [{ path: "name", message }] };
  }
  return { ok: true, schedule: parsed.data };
}
