import { describe, expect, it } from "vitest";

import { JobId } from "./job-id.ts";
import {
  RecurringScheduleInput,
  ScheduleName,
  recurrenceHeader,
  recurringJobId,
} from "./recurring.ts";

describe("recurring schedules", () => {
  it("give nats-server a cron as it is and an interval as @every", () => {
    expect(recurrenceHeader({ cron: "0 30 9 * * mon-fri" })).toBe("0 30 9 * * mon-fri");
    expect(recurrenceHeader({ every: "5m" })).toBe("@every 5m");
  });

  it("name each tick's job by the schedule and the tick's time, always a valid job id", () => {
    const name = "n".repeat(48);
    expect(ScheduleName.safeParse(name).success).toBe(true);
    expect(ScheduleName.safeParse(`${name}n`).success).toBe(false);
    const id = recurringJobId(name, new Date("2262-04-11T00:00:00.000Z"));
    expect(id).toBe(`${name}-9223286400000`);
    expect(JobId.safeParse(id).success).toBe(true);
  });

  it("refuse a job template with an id, a key or a schedule of its own, naming it", () => {
    for (const field of ["id", "idempotencyKey", "runAt", "delayMs"]) {
      const parsed = RecurringScheduleInput.safeParse({
        every: "1m",
        job: { type: "echo", [field]: field === "delayMs" ? 5 : "x" },
      });
      expect(parsed.error?.issues[0]?.path, field).toEqual(["job"]);
      expect(parsed.error?.issues[0]?.message).toContain(field);
    }
  });

  it("take six cron fields or a macro, and a duration, refusing what would change what the server does", () => {
    const accepts = (body: Record<string, unknown>) =>
      RecurringScheduleInput.safeParse({ ...body, job: { type: "echo" } }).success;
    expect(accepts({ cron: "0 30 9 * * mon-fri" })).toBe(true);
    expect(accepts({ cron: "@daily" })).toBe(true);
    expect(accepts({ every: "1h30m" })).toBe(true);
    for (const cron of [
      "0 0 2 * *",
      "0 0 2 * * *\n",
      "@at 2020-01-01T00:00:00Z",
      "@every 1s",
      " @daily",
    ]) {
      expect(accepts({ cron }), cron).toBe(false);
    }
    for (const every of ["soon", "5", "1s\n", "-5m"]) expect(accepts({ every }), every).toBe(false);
  });
});
