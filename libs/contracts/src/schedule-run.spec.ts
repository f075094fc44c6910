import { describe, expect, it } from "vitest";

import { readScheduleRun } from "./schedule-run.ts";

const run = {
  scheduleUpdatedAt: "2026-12-07T10:00:00.000Z",
  lastRunAt: "2026-12-07T10:05:00.000Z",
  lastJobId: "heartbeat-1796637900000",
  nextRunAt: "2026-12-07T10:05:30.000Z",
};

describe("readScheduleRun", () => {
  it("reads a recorded run", () => {
    expect(readScheduleRun(JSON.stringify(run))).toEqual(run);
  });

  it("reads an entry that is no run as none, without throwing", () => {
    expect(readScheduleRun("not json")).toBeUndefined();
    expect(readScheduleRun(JSON.stringify({ ...run, lastRunAt: "yesterday" }))).toBeUndefined();
    expect(readScheduleRun(`${"[".repeat(5000)}1${"]".repeat(5000)}`)).toBeUndefined();
  });
});
