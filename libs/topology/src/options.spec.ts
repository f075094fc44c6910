import { describe, expect, it } from "vitest";

import { hourMs, minuteMs, resolveTopologyOptions } from "./options.ts";

describe("resolveTopologyOptions", () => {
  it("takes a WORK duplicate window from 1 h up", () => {
    expect(resolveTopologyOptions({ workDuplicateWindowMs: 2 * hourMs })).toMatchObject({
      workDuplicateWindowMs: 2 * hourMs,
    });
    expect(resolveTopologyOptions()).toMatchObject({ workDuplicateWindowMs: hourMs });
  });

  it("fills in the defaults", () => {
    expect(resolveTopologyOptions()).toMatchObject({ replicas: 1, eventsMaxAgeMs: 168 * hourMs });
  });

  it.each([
    [{ eventsMaxAgeMs: Number.NaN }, "eventsMaxAgeMs"],
    [{ jobsMaxAgeMs: -1 }, "jobsMaxAgeMs"],
    [{ jobsDuplicateWindowMs: 0.5 }, "jobsDuplicateWindowMs"],
    [{ workDuplicateWindowMs: Infinity }, "workDuplicateWindowMs"],
    // Shorter than the dispatcher's retries publish a work item again: a job would run twice.
    [{ workDuplicateWindowMs: 5 * minuteMs }, "workDuplicateWindowMs"],
    [{ replicas: 0 }, "replicas"],
    [{ replicas: 2 }, "replicas"],
  ])("refuses %o, naming the option", (options, name) => {
    expect(() => resolveTopologyOptions(options)).toThrow(RangeError);
    expect(() => resolveTopologyOptions(options)).toThrow(name);
  });

  it("refuses a stream age shorter than the duplicate window it must hold", () => {
    expect(() => resolveTopologyOptions({ jobsMaxAgeMs: 30 * minuteMs })).toThrow(
      /jobsMaxAgeMs .* jobsDuplicateWindowMs/,
    );
    expect(() => resolveTopologyOptions({ eventsMaxAgeMs: minuteMs })).toThrow(/eventsMaxAgeMs/);
    expect(
      resolveTopologyOptions({ jobsMaxAgeMs: 30 * minuteMs, jobsDuplicateWindowMs: minuteMs }),
    ).toMatchObject({ jobsMaxAgeMs: 30 * minuteMs });
  });
});
