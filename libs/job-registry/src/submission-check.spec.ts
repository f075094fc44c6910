import { JobSubmission } from "@conveyor/contracts";
import type { JobTypeDescriptor } from "@conveyor/contracts";
import { describe, expect, it } from "vitest";
import { z } from "zod";

import { buildDescriptor } from "./descriptor.ts";
import { checkEnvelope, checkSubmission } from "./submission-check.ts";
import type { JobTypeLookup } from "./submission-check.ts";

const sleep = buildDescriptor({
  type: "sleep",
  payloadSchema: z.toJSONSchema(
    z.object({ ms: z.int().min(0), notify: z.email().optional() }).strict(),
  ),
});
const anything = buildDescriptor({ type: "echo" });
const types = new Map<string, JobTypeDescriptor>([
  [sleep.type, sleep],
  [anything.type, anything],
]);
const registry: JobTypeLookup = { get: (type) => types.get(type) };

const nats = (subjectType: string) => ({ source: "nats" as const, subjectType });

describe("checkSubmission", () => {
  it("accepts a NATS submission whose type comes from the subject", () => {
    const check = checkSubmission({ id: "job-1", payload: { ms: 5 } }, registry, nats("sleep"));
    expect(check).toMatchObject({
      ok: true,
      submission: { id: "job-1", type: "sleep", payload: { ms: 5 }, priority: 5 },
      descriptor: { type: "sleep" },
    });
  });

  it("accepts a REST submission and any payload of a type without a schema", () => {
    const check = checkSubmission({ type: "echo", payload: [1, "two"] }, registry, {
      source: "rest",
    });
    expect(check.ok).toBe(true);
  });

  it("refuses a body type that differs from the subject's", () => {
    const check = checkSubmission({ type: "echo", payload: {} }, registry, nats("sleep"));
    expect(check).toMatchObject({ ok: false, reason: "type_mismatch" });
    expect(check.ok || check.issues.map((i) => i.path)).toEqual(["type"]);
  });

  it("accepts a body type equal to the subject's", () => {
    expect(checkSubmission({ type: "echo" }, registry, nats("echo")).ok).toBe(true);
  });

  it("names every bad envelope field", () => {
    const check = checkSubmission(
      { payload: { ms: 1 }, maxAttempts: 0, priority: 12, colour: "red" },
      registry,
      nats("sleep"),
    );
    expect(check).toMatchObject({ ok: false, reason: "invalid_envelope" });
    if (check.ok) return;
    expect(check.issues.map((i) => i.path).sort()).toEqual(["colour", "maxAttempts", "priority"]);
    expect(check.message).toContain("maxAttempts");
  });

  it("accepts a job scheduled by runAt or by delayMs", () => {
    const runAt = checkEnvelope({ type: "echo", runAt: "2026-12-07T10:00:00Z" });
    expect(runAt).toMatchObject({ ok: true, submission: { runAt: "2026-12-07T10:00:00Z" } });
    expect(checkEnvelope({ type: "echo", delayMs: 5000 })).toMatchObject({
      ok: true,
      submission: { delayMs: 5000 },
    });
  });

  it("refuses a job scheduled both by runAt and by delayMs, naming delayMs", () => {
    const check = checkEnvelope({ type: "echo", runAt: "2026-12-07T10:00:00Z", delayMs: 5 });
    expect(check).toMatchObject({ ok: false, reason: "invalid_envelope" });
    if (check.ok) return;
    expect(check.issues).toEqual([{ path: "delayMs", message: "give runAt or delayMs, not both" }]);
    expect(check.message).toBe("invalid submission: delayMs: give runAt or delayMs, not both");
  });

  it("refuses a runAt more than a year after when it is checked, naming it and the latest allowed", () => {
    const scheduleFrom = new Date("2026-12-07T10:00:00.000Z");
    expect(
      checkEnvelope({ type: "echo", runAt: "2027-12-07T10:00:00Z" }, { scheduleFrom }).ok,
    ).toBe(true);
    const check = checkEnvelope(
      { type: "echo", runAt: "2027-12-07T10:00:00.001Z" },
      { scheduleFrom },
    );
    expect(check).toMatchObject({ ok: false, reason: "invalid_envelope" });
    if (check.ok) return;
    expect(check.issues).toEqual([
      { path: "runAt", message: "more than 365 days ahead: at most 2027-12-07T10:00:00.000Z" },
    ]);
    // Against the clock when not told otherwise: a year past the scheduler's range is refused.
    expect(checkEnvelope({ type: "echo", runAt: "9999-12-31T23:59:59Z" }).ok).toBe(false);
  });

  it("refuses a body that is not an object", () => {
    for (const body of [null, 42, "text", [1, 2]]) {
      const check = checkSubmission(body, registry, nats("sleep"));
      expect(check).toMatchObject({ ok: false, reason: "invalid_envelope" });
    }
  });

  it("requires a type when no subject names one", () => {
    const check = checkSubmission({ payload: {} }, registry, { source: "rest" });
    expect(check).toMatchObject({ ok: false, reason: "invalid_envelope" });
    expect(check.ok || check.issues.map((i) => i.path)).toEqual(["type"]);
  });

  it("refuses a type no worker registered", () => {
    const check = checkSubmission({ payload: {} }, registry, nats("email.send"));
    expect(check).toMatchObject({
      ok: false,
      reason: "unknown_type",
      issues: [{ path: "type" }],
    });
    expect(check.ok || check.message).toContain("email.send");
  });

  it("names each payload field that fails the type's schema", () => {
    const check = checkSubmission(
      { payload: { ms: "soon", notify: "not-an-email", extra: true } },
      registry,
      nats("sleep"),
    );
    expect(check).toMatchObject({ ok: false, reason: "invalid_payload" });
    if (check.ok) return;
    expect(check.issues).toEqual(
      expect.arrayContaining([
        { path: "payload.ms", message: "must be integer" },
        { path: "payload.extra", message: "unknown field" },
        { path: "payload.notify", message: 'must match format "email"' },
      ]),
    );
    expect(check.issues).toHaveLength(3);
  });

  it("reports at most 100 of a payload's issues, saying how many more there are", () => {
    // Each of 130,000 bad items is an issue: the refusal would run to megabytes.
    const strings = buildDescriptor({
      type: "strings",
      payloadSchema: z.toJSONSchema(z.array(z.string())),
    });
    const lookup: JobTypeLookup = { get: () => strings };
    const checked = checkSubmission(
      { type: "strings", payload: Array.from({ length: 130_000 }, () => 0) },
      lookup,
      { source: "rest" },
    );
    expect(checked.ok).toBe(false);
    if (checked.ok) return;
    expect(checked.issues).toHaveLength(100);
    expect(checked.issues[0]?.path).toBe("payload.0");
    expect(checked.message).toContain("and 129900 more");
    expect(checked.message.length).toBeLessThan(10_000);
  });

  it("names a missing required payload field", () => {
    const check = checkSubmission({ payload: {} }, registry, nats("sleep"));
    expect(check.ok || check.issues).toEqual([{ path: "payload.ms", message: "required" }]);
  });

  it("validates against the descriptor it finds, so a re-registered schema takes effect", () => {
    const relaxed = buildDescriptor({ type: "sleep" });
    const lookup: JobTypeLookup = { get: (type) => (type === "sleep" ? relaxed : undefined) };
    expect(checkSubmission({ payload: { ms: "soon" } }, registry, nats("sleep")).ok).toBe(false);
    expect(checkSubmission({ payload: { ms: "soon" } }, lookup, nats("sleep")).ok).toBe(true);
  });
});

describe("checkSubmission on payloads no store can hold", () => {
  /** Arrays and objects in turn, so that each is one level as stored. */
  const nested = (levels: number): unknown => {
    let value: unknown = 1;
    for (let i = 0; i < levels; i++) value = i % 2 === 0 ? [value] : { a: value };
    return value;
  };

  it("accepts a payload nested exactly as deep as the limit", () => {
    const check = checkSubmission({ type: "echo", payload: nested(64) }, registry, {
      source: "rest",
    });
    expect(check.ok).toBe(true);
  });

  it("counts an array held by an array twice, as the read model stores it", () => {
    const arrays = (n: number): unknown => (n === 0 ? 1 : [arrays(n - 1)]);
    const check = (payload: unknown) =>
      checkSubmission({ type: "echo", payload }, registry, { source: "rest" }).ok;
    // n arrays nested directly in one another are 2n - 1 levels as stored: 63 and 65.
    expect(check(arrays(32))).toBe(true);
    expect(check(arrays(33))).toBe(false);
  });

  it("refuses a payload nested deeper than the limit, naming payload, without overflowing", () => {
    for (const levels of [65, 5000]) {
      const check = checkSubmission({ type: "echo", payload: nested(levels) }, registry, {
        source: "rest",
      });
      expect(check).toMatchObject({ ok: false, reason: "invalid_payload" });
      if (check.ok) return;
      expect(check.issues).toEqual([
        {
          path: "payload",
          message:
            "nested deeper than 64 levels of arrays and objects (an array directly in an array counts two)",
        },
      ]);
    }
  });

  it("refuses a payload key holding a NUL character, naming where", () => {
    const check = checkSubmission(
      { type: "echo", payload: { outer: [{ "a\u0000b": 1 }] } },
      registry,
      nats("echo"),
    );
    expect(check).toMatchObject({ ok: false, reason: "invalid_payload" });
    if (check.ok) return;
    expect(check.issues).toEqual([
      { path: "payload.outer.0.a\\u0000b", message: "a key must not contain a NUL character" },
    ]);
  });
});

describe("checkSubmission on strings that are not well-formed Unicode", () => {
  // A lone surrogate is stored as U+FFFD: the stored job would differ from the one submitted, and
  // two keys differing only there would collapse into one (refused whole by FerretDB).
  it.each([
    [{ note: "a\ud800b" }, "payload.note"],
    [{ list: ["ok", "\udc00"] }, "payload.list.1"],
    [{ "k\ud800": 1 }, "payload.k\\ud800"],
    ["\ud83d", "payload"],
  ])("refuses %j, naming where", (payload, path) => {
    const check = checkSubmission({ type: "echo", payload }, registry, nats("echo"));
    expect(check).toMatchObject({ ok: false, reason: "invalid_payload" });
    if (check.ok) return;
    expect(check.issues).toEqual([
      { path, message: "must be well-formed Unicode (no lone surrogate)" },
    ]);
  });

  it("accepts a surrogate pair", () => {
    expect(
      checkSubmission({ type: "echo", payload: { e: "\ud83d\ude00" } }, registry, nats("echo")),
    ).toMatchObject({ ok: true });
  });
});

describe("checkSubmission on values that are not JSON", () => {
  it("refuses a payload holding something JSON cannot carry, naming where", () => {
    const cases: [unknown, string][] = [
      [{ at: new Date(0) }, "payload.at"],
      [{ list: [1, Number.NaN] }, "payload.list.1"],
      [{ deep: { fn: () => 1 } }, "payload.deep.fn"],
      [[undefined], "payload.0"],
      [Number.POSITIVE_INFINITY, "payload"],
      [new Map([["a", 1]]), "payload"],
    ];
    for (const [payload, path] of cases) {
      const check = checkSubmission({ type: "echo", payload }, registry, { source: "rest" });
      expect(check, path).toMatchObject({ ok: false, reason: "invalid_payload" });
      expect(check.ok || check.issues, path).toEqual([{ path, message: "not a JSON value" }]);
    }
  });

  it("refuses a sparse array at its first hole, without walking its length", () => {
    const sparse: unknown[] = [];
    sparse[1_000_000] = 1;
    const check = checkSubmission({ type: "echo", payload: { a: sparse } }, registry, {
      source: "rest",
    });
    expect(check.ok || check.issues).toEqual([
      { path: "payload.a.0", message: "not a JSON value" },
    ]);
  });

  it("gives exactly what JobSubmission parses, with a null payload when there is none", () => {
    for (const body of [
      { type: "echo", payload: { a: [1, "x", null, true, { b: 2.5 }] }, maxAttempts: 3 },
      { type: "echo" },
      { type: "echo", payload: null, priority: 9, idempotencyKey: "k", batchId: "b1" },
    ]) {
      const check = checkSubmission(body, registry, { source: "rest" });
      expect(check.ok && check.submission).toEqual(JobSubmission.parse(body));
    }
  });
});

describe("checkEnvelope", () => {
  it("accepts a type no registry knows, with the envelope's defaults", () => {
    const check = checkEnvelope({ type: "not-registered", payload: { a: 1 } });
    expect(check).toMatchObject({
      ok: true,
      submission: { type: "not-registered", payload: { a: 1 }, priority: 5 },
    });
  });

  it("refuses a bad field by name, and a payload that is not JSON", () => {
    expect(checkEnvelope({ type: "echo", priority: 12 })).toMatchObject({
      ok: false,
      reason: "invalid_envelope",
      issues: [{ path: "priority" }],
    });
    expect(checkEnvelope({ type: "echo", payload: { at: new Date(0) } })).toMatchObject({
      ok: false,
      reason: "invalid_payload",
      issues: [{ path: "payload.at" }],
    });
  });

  it("checks the body's type against the subject's", () => {
    expect(checkEnvelope({ type: "a" }, { subjectType: "b" })).toMatchObject({
      ok: false,
      reason: "type_mismatch",
    });
  });
});
