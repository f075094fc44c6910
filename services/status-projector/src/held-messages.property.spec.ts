import fc from "fast-check";
import { describe, expect, it } from "vitest";

import { HeldMessages } from "./held-messages.ts";

/** One step of a projector loop: hold a batch's deferred messages, or release for the next batch. */
type Step =
  | { kind: "add"; jobs: { id: number; key: string; due: number }[] }
  | { kind: "release"; touched: string[]; dueBy: number; now: number };

const key = fc.constantFrom("a", "b", "c", "d", "e", "f");
const time = fc.integer({ min: 0, max: 200 });
const step: fc.Arbitrary<Step> = fc.oneof(
  fc.record({
    kind: fc.constant("add" as const),
    // Ids repeat: a message released is held again later, as a job's deferred events are.
    jobs: fc.array(fc.record({ id: fc.nat({ max: 20 }), key, due: time }), { maxLength: 5 }),
  }),
  fc.record({
    kind: fc.constant("release" as const),
    touched: fc.array(key, { maxLength: 3 }),
    dueBy: time,
    now: time,
  }),
);

interface Held {
  id: number;
  key: string;
  due: number;
}

/** The rules, written the obvious way: every call looks at every held message. */
class ReferenceHeld {
  held: Held[] = [];

  release(touched: readonly string[], dueBy: number): [number, number][] {
    const keys = new Set(touched);
    for (const { key, due } of this.held) if (due <= dueBy) keys.add(key);
    const out = this.held.filter((h) => keys.has(h.key));
    this.held = this.held.filter((h) => !keys.has(h.key));
    return out.map((h) => [h.id, h.due]);
  }

  msUntilDue(now: number): number {
    const first = Math.min(...this.held.map((h) => h.due));
    return Math.max(0, first - now);
  }
}

const byId = (a: [number, number], b: [number, number]) => a[0] - b[0];

describe("HeldMessages against the obvious rules", () => {
  it("releases and schedules exactly what scanning every held message would", () => {
    fc.assert(
      fc.property(fc.array(step, { maxLength: 60 }), (steps) => {
        const held = new HeldMessages<number>((id) => id);
        const reference = new ReferenceHeld();
        for (const s of steps) {
          if (s.kind === "add") {
            for (const { id, key: k, due } of s.jobs) {
              held.add(id, k, due);
              // One message per id: a copy of a held one keeps its job and the earlier due time.
              const earlier = reference.held.find((h) => h.id === id);
              if (earlier === undefined) reference.held.push({ id, key: k, due });
              else earlier.due = Math.min(earlier.due, due);
            }
            continue;
          }
          const released = [...held.release(s.touched, s.dueBy)].sort(byId);
          expect(released).toEqual(reference.release(s.touched, s.dueBy).sort(byId));
          expect(held.size).toBe(reference.held.length);
          expect(held.msUntilDue(s.now)).toBe(reference.msUntilDue(s.now));
        }
      }),
    );
  });

  it("forgets messages released early, however many: the next due one is found", () => {
    const held = new HeldMessages<number>((id) => id);
    for (let id = 0; id < 5000; id++) held.add(id, `job-${String(id)}`, 10_000 + id);
    // Every job touched by a later batch: all released long before they are due.
    for (let id = 0; id < 5000; id += 100) {
      const touched = Array.from({ length: 100 }, (_, i) => `job-${String(id + i)}`);
      expect(held.release(touched, 0).size).toBe(100);
    }
    held.add(9999, "late", 50);

    expect(held.msUntilDue(0)).toBe(50);
    expect([...held.release([], 50)]).toEqual([[9999, 50]]);
    expect(held.msUntilDue(0)).toBe(Number.POSITIVE_INFINITY);
  });
});
