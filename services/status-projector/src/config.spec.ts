import { ConfigError, parseEnv } from "@conveyor/service-kit";
import { describe, expect, it } from "vitest";

import { deadJobsAgeOverride, dlqAgeMarginMs, projectorEnv, retentionPolicy } from "./config.ts";

const day = 24 * 3_600_000;

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

  it("keeps finished jobs and rejections a week and dead jobs 31 days, a day longer than the DLQ keeps letters, unless told otherwise", () => {
    expect(dlqAgeMarginMs).toBe(day);
    expect(retentionPolicy(parseEnv(projectorEnv, {}), 30 * day)).toEqual({
      finishedJobsMs: 7 * day,
      deadJobsMs: 31 * day,
      openDeadLettersMs: 31 * day,
      rejectionsMs: 7 * day,
    });
    const env = parseEnv(projectorEnv, {
      FINISHED_JOBS_MAX_AGE_HOURS: "0.5",
      DEAD_JOBS_MAX_AGE_HOURS: "0",
      REJECTIONS_MAX_AGE_HOURS: "48",
    });
    // A letter waiting in the DLQ goes with the letter itself, even when dead jobs are kept for good.
    expect(retentionPolicy(env, 30 * day)).toEqual({
      finishedJobsMs: 1_800_000,
      deadJobsMs: 0,
      openDeadLettersMs: 31 * day,
      rejectionsMs: 2 * day,
    });
  });

  it("keeps a dead job as long as the DLQ keeps its letter, which a replay would continue", () => {
    const deadFor = (hours: string, dlqMaxAgeMs: number) =>
      retentionPolicy(parseEnv(projectorEnv, { DEAD_JOBS_MAX_AGE_HOURS: hours }), dlqMaxAgeMs)
        .deadJobsMs;
    expect(deadFor("24", 30 * day)).toBe(31 * day);
    expect(deadFor("2400", 30 * day)).toBe(100 * day);
    expect(deadFor("24", 90 * day)).toBe(91 * day);
    // A DLQ that keeps letters for good keeps their jobs for good.
    expect(deadFor("24", 0)).toBe(0);
    expect(deadFor("0", 30 * day)).toBe(0);
  });

  it("says why when the DLQ keeps dead jobs longer than DEAD_JOBS_MAX_AGE_HOURS", () => {
    const override = (hours: string | undefined, dlqMaxAgeMs: number) =>
      deadJobsAgeOverride(
        parseEnv(projectorEnv, hours === undefined ? {} : { DEAD_JOBS_MAX_AGE_HOURS: hours }),
        dlqMaxAgeMs,
      );
    // The defaults agree with the DLQ's 30 days: nothing to say.
    expect(override(undefined, 30 * day)).toBeUndefined();
    expect(override("0", 30 * day)).toBeUndefined();
    expect(override("24", 30 * day)).toMatch(/as long as the DLQ keeps their letters/);
    expect(override("24", 0)).toMatch(/kept for good/);
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
