import { JobId } from "@conveyor/contracts";
import { describe, expect, it } from "vitest";

import { idForIntakeMessage } from "./job-ids.ts";

describe("idForIntakeMessage", () => {
  const at = new Date("2026-03-01T12:00:00Z");

  it("gives a redelivered message the same valid, time-ordered id", () => {
    const id = idForIntakeMessage("JOBS", 42, at, "job");
    expect(idForIntakeMessage("JOBS", 42, at, "job")).toBe(id);
    expect(JobId.safeParse(id).success).toBe(true);
    expect(idForIntakeMessage("JOBS", 43, new Date(at.getTime() + 1), "job") > id).toBe(true);
  });

  it("separates messages and purposes", () => {
    const ids = new Set([
      idForIntakeMessage("JOBS", 1, at, "job"),
      idForIntakeMessage("JOBS", 2, at, "job"),
      idForIntakeMessage("JOBS", 1, at, "rejection"),
    ]);
    expect(ids.size).toBe(3);
  });
});
