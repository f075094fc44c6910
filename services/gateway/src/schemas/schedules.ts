import { RecurringSchedule, ScheduleName } from "@conveyor/contracts";
import { z } from "zod";

import { Cursor, Limit } from "./common.ts";

/** Path parameters of `/v1/schedules/:name`. */
export const ScheduleParams = z.object({ name: ScheduleName });

/** A recurring schedule as the gateway answers it: as stored, with its latest run once it ran. */
export const ScheduleView = RecurringSchedule.extend({
  lastRunAt: z.iso
    .datetime()
    .optional()
    .describe("When it last ticked (absent until its first tick, or since a PUT replaced it)"),
  lastJobId: z.string().optional().describe("The job its last tick submitted"),
  lastRejectionId: z
    .string()
    .optional()
    .describe("The rejection its last tick's job was recorded as, when it was refused"),
  nextRunAt: z.iso
    .datetime()
    .optional()
    .describe("When it ticks next, as nats-server's scheduler told its last tick"),
});
export type ScheduleView = z.infer<typeof ScheduleView>;

/** `GET /v1/schedules`: one page of the recurring schedules, by name. */
export const ScheduleList = z.object({
  items: z.array(ScheduleView),
  /** The next page's `cursor`; null on the last page. */
  nextCursor: z.string().nullable(),
});

/** Query of `GET /v1/schedules`; strict, as the other lists' are. */
export const ListSchedulesQuery = z.strictObject({ limit: Limit, cursor: Cursor.optional() });
