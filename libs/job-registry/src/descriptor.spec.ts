import { describe, expect, it } from "vitest";

import { buildDescriptor, readStoredDescriptor, sameDeclaration } from "./descriptor.ts";
import { InvalidJobTypeError } from "./errors.ts";

describe("buildDescriptor", () => {
  it("fills the default retry policy and timeout", () => {
    const descriptor = buildDescriptor(
      { type: "email.send", retry: { maxAttempts: 2 } },
      new Date("2026-01-01T00:00:00Z"),
    );
    expect(descriptor).toMatchObject({
      type: "email.send",
      retry: { maxAttempts: 2, initialDelayMs: 1000, factor: 2 },
      timeoutMs: 60_000,
      registeredAt: "2026-01-01T00:00:00.000Z",
    });
  });

  it("names the bad fields of a registration", () => {
    const error = catchError(() =>
      buildDescriptor({ type: "Email Send", retry: { factor: 0 }, timeoutMs: 0 }),
    );
    expect(error).toBeInstanceOf(InvalidJobTypeError);
    expect((error as InvalidJobTypeError).issues.map((i) => i.path).sort()).toEqual([
      "retry.factor",
      "timeoutMs",
      "type",
    ]);
  });

  it("refuses a timeout longer than a day, which Node's timers cannot wait for", () => {
    const error = catchError(() =>
      buildDescriptor({ type: "report.month", timeoutMs: 2_592_000_000 }),
    );
    expect(error).toBeInstanceOf(InvalidJobTypeError);
    expect((error as InvalidJobTypeError).issues.map((i) => i.path)).toEqual(["timeoutMs"]);
    expect(buildDescriptor({ type: "report.day", timeoutMs: 86_400_000 }).timeoutMs).toBe(
      86_400_000,
    );
  });

  it("reads a stored descriptor whose timeout is longer than a day as a day's, registered before the bound", () => {
    const stored = {
      ...buildDescriptor({ type: "report.month" }),
      timeoutMs: 2_592_000_000,
    };
    expect(readStoredDescriptor(stored).timeoutMs).toBe(86_400_000);
    expect(readStoredDescriptor({ ...stored, timeoutMs: 5000 }).timeoutMs).toBe(5000);
    expect(() => readStoredDescriptor({ ...stored, timeoutMs: "soon" })).toThrow();
  });

  it("refuses a payload schema that cannot be compiled", () => {
    const error = catchError(() =>
      buildDescriptor({ type: "bad", payloadSchema: { type: "no-such-type" } }),
    );
    expect(error).toBeInstanceOf(InvalidJobTypeError);
    expect((error as InvalidJobTypeError).issues[0]?.path).toBe("payloadSchema");
  });
});

describe("sameDeclaration", () => {
  it("ignores the registration time and key order, not the content", () => {
    const a = buildDescriptor({ type: "t", payloadSchema: { type: "object", required: ["a"] } });
    const b = buildDescriptor(
      { type: "t", payloadSchema: { required: ["a"], type: "object" } },
      new Date(0),
    );
    const c = buildDescriptor({ type: "t", payloadSchema: { type: "object" } });
    expect(sameDeclaration(a, b)).toBe(true);
    expect(sameDeclaration(a, c)).toBe(false);
  });
});

function catchError(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  return undefined;
}
