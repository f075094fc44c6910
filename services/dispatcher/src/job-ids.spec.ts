import { JobId } from "@conveyor/contracts";
import { describe, expect, it } from "vitest";

import { idForIntakeMessage, traceIdForIntakeMessage } from "./job-ids.ts";

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

  it("separates the jobs of one bulk message, each the same on redelivery", () => {
    const ids = [0, 1, 2].map((index) => idForIntakeMessage("JOBS", 7, at, "job", index));
    expect(new Set([...ids, idForIntakeMessage("JOBS", 7, at, "job")]).size).toBe(4);
    expect(idForIntakeMessage("JOBS", 7, at, "job", 1)).toBe(ids[1]);
    expect(idForIntakeMessage("JOBS", 7, at, "rejection", 1)).not.toBe(ids[1]);
  });

  it("gives each intake message, and each job of a bulk, one trace id at every delivery", () => {
    const at = new Date("2026-01-01T00:00:00.000Z");
    const first = traceIdForIntakeMessage("JOBS", 7, at);
    expect(first).toMatch(/^[0-9a-f]{32}$/);
    expect(traceIdForIntakeMessage("JOBS", 7, at)).toBe(first);
    expect(traceIdForIntakeMessage("JOBS", 8, at)).not.toBe(first);
    expect(traceIdForIntakeMessage("JOBS", 7, at, 0)).not.toBe(
      traceIdForIntakeMessage("JOBS", 7, at, 1),
    );
  });
});
