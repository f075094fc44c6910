import fc from "fast-check";
import { describe, expect, it } from "vitest";

import { canonicalTime } from "./order.ts";

/** What `canonicalTime` must equal: `toISOString()` of the parsed time, or the error it throws. */
function viaDate(iso: string): string {
  try {
    return new Date(iso).toISOString();
  } catch (err) {
    return `throws ${String(err)}`;
  }
}

function viaCanonicalTime(iso: string): string {
  try {
    return canonicalTime(iso);
  } catch (err) {
    return `throws ${String(err)}`;
  }
}

const twoDigits = (max: number) =>
  fc.integer({ min: 0, max }).map((n) => String(n).padStart(2, "0"));

/** Times shaped like `toISOString()`'s, with fields out of range too (day 31 of February, hour 24). */
const isoShaped = fc
  .tuple(
    fc.integer({ min: 0, max: 9999 }).map((n) => String(n).padStart(4, "0")),
    twoDigits(13),
    twoDigits(32),
    twoDigits(24),
    twoDigits(60),
    twoDigits(60),
    fc.integer({ min: 0, max: 999 }).map((n) => String(n).padStart(3, "0")),
  )
  .map(([y, mo, d, h, mi, s, ms]) => `${y}-${mo}-${d}T${h}:${mi}:${s}.${ms}Z`);

describe("canonicalTime", () => {
  it("returns a time already in toISOString() form unchanged", () => {
    fc.assert(
      fc.property(
        fc.date({ noInvalidDate: true, min: new Date(0), max: new Date("9999-12-31") }),
        (date) => {
          const iso = date.toISOString();
          expect(canonicalTime(iso)).toBe(iso);
        },
      ),
    );
  });

  it("agrees with Date on every time of that shape, in range or not", () => {
    fc.assert(
      fc.property(isoShaped, (iso) => {
        expect(viaCanonicalTime(iso)).toBe(viaDate(iso));
      }),
      { numRuns: 5000 },
    );
  });

  it("normalises other ISO-8601 forms, so that string order is time order", () => {
    expect(canonicalTime("2026-12-04T07:00:00Z")).toBe("2026-12-04T07:00:00.000Z");
    expect(canonicalTime("2026-12-04T07:00:00.123456Z")).toBe("2026-12-04T07:00:00.123Z");
    expect(canonicalTime("2026-02-30T10:00:00.000Z")).toBe("2026-03-02T10:00:00.000Z");
    expect(canonicalTime("2026-12-04T24:00:00.000Z")).toBe("2026-12-05T00:00:00.000Z");
    expect(() => canonicalTime("2026-13-01T00:00:00.000Z")).toThrow(RangeError);
  });
});
