import { RecurringSchedule, ScheduleName } from "@conveyor/contracts";
import { z } from "zod";

/** Path parameters of `/v1/schedules/:name`. */
export const ScheduleParams = z.object({ name: ScheduleName });

/** `GET /v1/schedules`: every recurring schedule, by name. */
export const ScheduleList = z.object({ items: z.array(RecurringSchedule) });
