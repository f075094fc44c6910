import { ConfigError, parseEnv } from "@conveyor/service-kit";
import { describe, expect, it } from "vitest";

import { projectorEnv, retentionPolicy } from "./config.ts";

describe("projectorEnv", () => {
  it("refuses a hold the consumers' 30 s ack wait would cut short, naming the variable", () => {
    expect(parseEnv(projectorEnv, { PROJECTOR_NEW_JOB_DEFER_MS: "20000" })).toMatchObject({
      PROJECTOR_NEW_JOB_DEFER_MS: 20_000,
      PROJECTOR_DEFER_MS: 1000,
    });
    for (const variable of ["PROJECTOR_DEFER_MS", "PROJECTOR_NEW_JOB_DEFER_MS"]) {
      expect(() => parseEnv(projectorEnv, { [variable]: "30000" })).toThrow(ConfigError);
      expect(() => parseEnv(projectorEnv, { [variable]: "30000" })).toThrow(variable);
    }
  });

  it("keeps finished jobs and rejections a week and dead jobs 30 days unless told otherwise", () => {
    const day = 24 * 3_600_000;
    expect(retentionPolicy(parseEnv(projectorEnv, {}))).toEqual({
      finishedJobsMs: 7 * day,
      deadJobsMs: 30 * day,
      openDeadLettersMs: 30 * day,
      rejectionsMs: 7 * day,
    });
    const env = parseEnv(projectorEnv, {
      FINISHED_JOBS_MAX_AGE_HOURS: "0.5",
      DEAD_JOBS_MAX_AGE_HOURS: "0",
      REJECTIONS_MAX_AGE_HOURS: "48",
    });
    // A letter waiting in the DLQ goes with the letter itself, even when dead jobs are kept for good.
    expect(retentionPolicy(env)).toEqual({
      finishedJobsMs: 1_800_000,
      deadJobsMs: 0,
      openDeadLettersMs: 30 * day,
      rejectionsMs: 2 * day,
    });
  });

  it("refuses a negative or non-numeric age and a sweep interval over a week, naming the variable", () => {
    for (const [variable, value] of [
      ["FINISHED_JOBS_MAX_AGE_HOURS", "-1"],
      ["DEAD_JOBS_MAX_AGE_HOURS", "a week"],
      ["REJECTIONS_MAX_AGE_HOURS", "-0.5"],
      ["READ_MODEL_SWEEP_INTERVAL_MS", String(8 * 24 * 3_600_000)],
    ] as const) {
      expect(() => parseEnv(projectorEnv, { [variable]: value })).toThrow(ConfigError);
      expect(() => parseEnv(projectorEnv, { [variable]: value })).toThrow(variable);
    }
  });
});
