import { describe, expect, it } from "vitest";

import { JobEvent } from "./events.ts";
// parseWorkItemJson is checked against WorkItem where workers read items (worker-sdk work-item.spec).
import { isFiniteJson, parseJobEventJson } from "./parsed-json.ts";

const at = "2026-01-01T00:00:00.000Z";
const base = { jobId: "job-1", type: "echo", at, run: 1, attempt: 1, traceId: "ab" };
const queued = {
  ...base,
  attempt: 0,
  kind: "queued",
  payload: { message: "hi", list: [1, null, true, { deep: "x" }] },
  priority: 5,
  maxAttempts: 3,
  submittedAt: at,
  source: "nats",
};
const succeeded = {
  ...base,
  kind: "succeeded",
  result: [{ a: 1 }, "b"],
  durationMs: 2,
  workerId: "w-1",
  startedAt: at,
};
const started = { ...base, kind: "started", workerId: "w-1" };
/** The text as `JSON.parse` reads it, so `1e999` becomes `Infinity` as in a real message. */
const parsed = (value: unknown, replace?: [string, string]) => {
  const text = JSON.stringify(value);
  return JSON.parse(replace ? text.replace(replace[0], replace[1]) : text) as unknown;
};

describe("isFiniteJson", () => {
  it.each([
    ["a string", "x", true],
    ["null", null, true],
    ["a nested object", { a: [1, { b: false }] }, true],
    ["Infinity", Infinity, false],
    ["Infinity deep in an array", [1, [2, { c: -Infinity }]], false],
    ["NaN in an object", { a: NaN }, false],
  ])("says whether %s is JSON", (_, value, expected) => {
    expect(isFiniteJson(value)).toBe(expected);
  });
});

describe("parseJobEventJson", () => {
  const cases: [string, unknown][] = [
    ["a queued event", parsed(queued)],
    ["a succeeded event", parsed(succeeded)],
    ["a started event", parsed(started)],
    ["an extra field", parsed({ ...succeeded, extra: 1 })],
    ["a payload too large to be finite", parsed(queued, ['"hi"', "1e999"])],
    ["a result too large to be finite", parsed(succeeded, ['"b"', "-1e999"])],
    ["no payload", parsed({ ...queued, payload: undefined })],
    ["no result", parsed({ ...succeeded, result: undefined })],
    ["a null result", parsed({ ...succeeded, result: null })],
    ["a bad date beside a good payload", parsed({ ...queued, at: "2026-02-30T00:00:00Z" })],
    ["a bad worker beside a good result", parsed({ ...succeeded, workerId: 7 })],
    ["an unknown kind", parsed({ ...succeeded, kind: "finished" })],
    ["no object", parsed([queued])],
    ["nothing", undefined],
  ];

  it.each(cases)("reads %s exactly as the JobEvent schema does", (_, json) => {
    const quick = parseJobEventJson(json);
    const full = JobEvent.safeParse(json);
    expect(quick.success).toBe(full.success);
    if (quick.success && full.success) expect(quick.data).toEqual(full.data);
    if (!quick.success && !full.success) expect(quick.error.issues).toEqual(full.error.issues);
  });

  it("keeps the payload and the result as sent", () => {
    const event = parsed(queued);
    const read = parseJobEventJson(event);
    expect(read.success && read.data.kind === "queued" && read.data.payload).toEqual(
      queued.payload,
    );
    const done = parseJobEventJson(parsed(succeeded));
    expect(done.success && done.data.kind === "succeeded" && done.data.result).toEqual(
      succeeded.result,
    );
  });
});
