import { describe, expect, it } from "vitest";

import { HeldMessages, beyondHoldLimits } from "./held-messages.ts";

/** Held: job a's two events (due at 100), job b's one (due at 500), job c's one (due at 300). */
function heldJobs(): HeldMessages<string> {
  const held = new HeldMessages<string>((msg) => msg);
  held.add("a-queued", "a", 100);
  held.add("b-queued", "b", 500);
  held.add("a-started", "a", 100);
  held.add("c-queued", "c", 300);
  return held;
}

describe("HeldMessages", () => {
  it("releases every message of the keys a batch touches, with its due time, and keeps the rest", () => {
    const held = heldJobs();

    const released = held.release(["b", "unknown"], 0);

    expect([...released]).toEqual([["b-queued", 500]]);
    expect([...held]).toEqual(["a-queued", "a-started", "c-queued"]);
    expect(held.size).toBe(3);
  });

  it("releases a whole job once one of its messages comes due", () => {
    const held = heldJobs();

    const released = held.release([], 100);

    expect([...released]).toEqual([
      ["a-queued", 100],
      ["a-started", 100],
    ]);
    expect([...held]).toEqual(["b-queued", "c-queued"]);
  });

  it("holds a redelivered copy of a held message in its place, due when the first was", () => {
    // Messages are JetStream deliveries: a copy of the same stream sequence is another object.
    const held = new HeldMessages<{ seq: number; delivery: number }>((msg) => msg.seq);
    held.add({ seq: 7, delivery: 1 }, "a", 100);
    held.add({ seq: 7, delivery: 2 }, "a", 130);

    expect(held.size).toBe(1);
    expect(held.msUntilDue(0)).toBe(100);
    // The newest delivery is the one to acknowledge.
    expect([...held.release([], 100)]).toEqual([[{ seq: 7, delivery: 2 }, 100]]);
    expect(held.size).toBe(0);
  });

  it("releases a key once: a job touched and due comes out a single time", () => {
    const held = heldJobs();

    const released = held.release(["a", "a"], 1000);

    expect([...released.keys()].sort()).toEqual(["a-queued", "a-started", "b-queued", "c-queued"]);
    expect(held.size).toBe(0);
  });

  it("takes messages held again after a release as new", () => {
    const held = heldJobs();
    held.release(["a"], 0);

    held.add("a-running", "a", 700);

    expect([...held.release(["a"], 0)]).toEqual([["a-running", 700]]);
  });

  it("tells how long until the first held message is due, and 0 once it is overdue", () => {
    const held = heldJobs();

    expect(held.msUntilDue(40)).toBe(60);
    expect(held.msUntilDue(250)).toBe(0);
    held.release(["a"], 0);
    expect(held.msUntilDue(250)).toBe(50);
  });
});

describe("HeldMessages of stream messages", () => {
  it("gives the held messages back in stream order, whatever order they were held in", () => {
    const held = new HeldMessages<{ seq: number }>((msg) => msg.seq);
    for (const seq of [30, 4, 1000, 12]) held.add({ seq }, `job-${String(seq)}`, 0);
    held.release(["job-12"], -1);
    expect([...held].map((msg) => msg.seq)).toEqual([4, 30, 1000]);
  });
});

describe("the bytes held", () => {
  it("counts what is held, once per message, and nothing once released", () => {
    const held = new HeldMessages<{ seq: number; body: string }>(
      (msg) => msg.seq,
      (msg) => msg.body.length,
    );
    held.add({ seq: 1, body: "aaaa" }, "a", 100);
    held.add({ seq: 2, body: "bb" }, "b", 100);
    held.add({ seq: 1, body: "aaaa" }, "a", 150);
    expect(held.bytes).toBe(6);
    held.release(["a"], 0);
    expect(held.bytes).toBe(2);
    held.release([], 100);
    expect(held.bytes).toBe(0);
  });
});

describe("beyondHoldLimits", () => {
  const size = (msg: string) => msg.length;

  it("sends the newest at once past the limit on messages", () => {
    const batch = ["a", "b", "c"];
    expect(
      beyondHoldLimits(batch, { size: 8, bytes: 0 }, { messages: 10, bytes: 1e9 }, size),
    ).toEqual(new Set(["c"]));
  });

  it("sends each message that does not fit in the bytes left at once, and holds the small ones", () => {
    const batch = ["x".repeat(60), "s", "y".repeat(50), "t"];
    const beyond = beyondHoldLimits(
      batch,
      { size: 0, bytes: 41 },
      { messages: 10, bytes: 100 },
      size,
    );
    expect(beyond).toEqual(new Set(["x".repeat(60)]));
    const full = beyondHoldLimits(
      batch,
      { size: 0, bytes: 95 },
      { messages: 10, bytes: 100 },
      size,
    );
    expect(full).toEqual(new Set(["x".repeat(60), "y".repeat(50)]));
  });
});
