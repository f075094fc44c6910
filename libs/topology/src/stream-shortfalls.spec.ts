import type { StreamConfig } from "@nats-io/jetstream";
import { describe, expect, it } from "vitest";

import { streamShortfalls, subjectCovers } from "./stream-shortfalls.ts";
import { streamSpecs } from "./streams.ts";
import { resolveTopologyOptions } from "./options.ts";

const jobsSpec = streamSpecs(resolveTopologyOptions()).find((spec) => spec.name === "JOBS")!;
const schedulesSpec = streamSpecs(resolveTopologyOptions()).find(
  (spec) => spec.name === "SCHEDULES",
)!;
const withSubjects = (subjects: string[]) => ({ subjects }) as StreamConfig;

describe("subjectCovers", () => {
  it.each([
    ["jobs.>", "jobs.submit.>", true],
    ["jobs.*.>", "jobs.bulk.>", true],
    [">", "jobs.cmd.>", true],
    ["jobs.submit.>", "jobs.submit.>", true],
    ["jobs.*", "jobs.submit.>", false],
    ["jobs.submit.*", "jobs.submit.>", false],
    ["jobs.submit", "jobs.submit.>", false],
    ["jobs.*.x", "jobs.*.x", true],
    ["jobs.a.x", "jobs.*.x", false],
    ["work.>", "work", false],
  ])("%s covers %s: %s", (configured, wanted, covers) => {
    expect(subjectCovers(configured, wanted)).toBe(covers);
  });
});

describe("streamShortfalls", () => {
  it("finds nothing lacking in a stream whose wider wildcard captures every subject", () => {
    expect(streamShortfalls(jobsSpec, withSubjects(["jobs.>"]))).toEqual([]);
  });

  it("names each subject no configured subject captures", () => {
    expect(streamShortfalls(jobsSpec, withSubjects(["jobs.submit.>", "jobs.cmd.>"]))).toEqual([
      "subject jobs.bulk.> of stream JOBS",
    ]);
  });

  it("names message schedules a stream lacks (a server before 2.12 leaves them out)", () => {
    const config = { subjects: ["schedule.>"] } as StreamConfig;
    expect(streamShortfalls(schedulesSpec, config)).toEqual([
      "allow_msg_schedules of stream SCHEDULES (nats-server 2.12 or later)",
    ]);
    expect(streamShortfalls(schedulesSpec, { ...config, allow_msg_schedules: true })).toEqual([]);
  });
});
