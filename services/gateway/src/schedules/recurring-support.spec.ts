import { describe, expect, it } from "vitest";

import { supportsRecurringSchedules } from "./recurring-support.ts";

describe("supportsRecurringSchedules", () => {
  it("is true from nats-server 2.14 on, pre-releases and later majors included", () => {
    for (const version of ["2.14.0", "2.14.9", "2.14.0-RC.1", "2.15.2", "v2.14.3", "3.0.0"]) {
      expect(supportsRecurringSchedules(version), version).toBe(true);
    }
  });

  it("is false before 2.14, whose message schedules are one-time only", () => {
    for (const version of ["2.12.0", "2.12.4", "2.13.1", "2.11.9", "1.4.1"]) {
      expect(supportsRecurringSchedules(version), version).toBe(false);
    }
  });

  it("leaves a version it cannot read to the server's own answer", () => {
    expect(supportsRecurringSchedules("")).toBe(true);
    expect(supportsRecurringSchedules("nightly")).toBe(true);
  });
});
