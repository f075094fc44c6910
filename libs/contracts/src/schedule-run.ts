import { z } from "zod";

import { jsonOrUndefined } from "./json-or-undefined.ts";

/**
 * What the dispatcher records of a recurring schedule's latest tick, under the schedule's name in
 * the `conveyor-schedule-runs` bucket, for the gateway to show with the schedule.
 */
export const ScheduleRun = z.object({
  /**
   * The `updatedAt` of the schedule that ticked: the run of a schedule that a PUT has replaced
   * since (or one deleted and made again under its name) is not shown as the new one's.
   */
  scheduleUpdatedAt: z.iso.datetime(),
  /** When the tick was stored, as in its job's id (`<name>-<epoch ms>`). */
  lastRunAt: z.iso.datetime(),
  /** The job the tick submitted... */
  lastJobId: z.string().optional(),
  /** ...or the rejection it was recorded as (`GET /v1/rejections/:id`). */
  lastRejectionId: z.string().optional(),
  /** When nats-server's scheduler ticks it next, as the tick said (`Nats-Schedule-Next`). */
  nextRunAt: z.iso.datetime().optional(),
});
export type ScheduleRun = z.infer<typeof ScheduleRun>;

/** A stored schedule run, or undefined for an entry that is none (never throws). */
export function readScheduleRun(body: Uint8Array | string): ScheduleRun | undefined {
  try {
    const parsed = ScheduleRun.safeParse(jsonOrUndefined(body));
    return parsed.success ? parsed.data : undefined;
  } catch {
    // Nested too deep for the validator: no record of ours.
    return undefined;
  }
}
