import { describe, expect, it } from "vitest";

import { SlotGate } from "./slot-gate.ts";

const running = new AbortController().signal;

describe("SlotGate", () => {
  it("gives free slots at once, and no more than it has", () => {
    const gate = new SlotGate(2);
    expect(gate.tryEnter(5)).toBe(true);
    expect(gate.tryEnter(5)).toBe(true);
    expect(gate.tryEnter(9)).toBe(false);
    gate.leave();
    expect(gate.tryEnter(5)).toBe(true);
    expect(gate.taken).toBe(2);
  });

  it("gives each freed slot to the waiting job of the highest priority, the first among equals", async () => {
    const gate = new SlotGate(1);
    expect(gate.tryEnter(5)).toBe(true);
    const order: string[] = [];
    const waits = (
      [
        ["low", 1],
        ["high-1", 9],
        ["normal", 5],
        ["high-2", 9],
      ] as const
    ).map(([name, priority]) => gate.enter(priority, running, () => order.push(name)));
    expect(gate.waiting).toBe(4);
    for (let i = 0; i < 4; i++) gate.leave();
    await Promise.all(waits);
    expect(order).toEqual(["high-1", "high-2", "normal", "low"]);
  });

  it("lets no job jump the line of waiting jobs of its priority or a higher one", () => {
    let claimed = 9;
    const gate = new SlotGate(2, () => claimed);
    void gate.enter(5, running, () => undefined);
    // Priority 9's jobs are pulled; then none is known to wait but 5's.
    claimed = 5;
    expect(gate.tryEnter(5)).toBe(false);
    expect(gate.tryEnter(3)).toBe(false);
    expect(gate.tryEnter(7)).toBe(true);
    gate.admitWaiting();
    expect(gate.waiting).toBe(0);
    expect(gate.taken).toBe(2);
  });

  it("lets a job of a higher priority than every waiting one take a free slot", () => {
    const gate = new SlotGate(1, () => 9);
    void gate.enter(1, running, () => undefined);
    // The slot is kept for priority 9, known to wait: 9 takes it, the waiting 1 does not.
    expect(gate.waiting).toBe(1);
    expect(gate.tryEnter(9)).toBe(true);
  });

  it("keeps freed slots for a higher priority known to wait, and gives them once none is", () => {
    let claimed = 9;
    const gate = new SlotGate(1, () => claimed);
    expect(gate.tryEnter(5)).toBe(false);
    let admitted = false;
    void gate.enter(5, running, () => {
      admitted = true;
    });
    expect(admitted).toBe(false);
    claimed = -Infinity;
    gate.admitWaiting();
    expect(admitted).toBe(true);
    expect(gate.tryEnter(9)).toBe(false);
  });

  it("takes a waiting job out of line when its signal aborts, without giving it a slot", async () => {
    const gate = new SlotGate(1);
    gate.tryEnter(5);
    const stop = new AbortController();
    let admitted = false;
    const waiting = gate.enter(9, stop.signal, () => {
      admitted = true;
    });
    stop.abort(new Error("stopping"));
    await expect(waiting).rejects.toThrow("stopping");
    expect(gate.waiting).toBe(0);
    gate.leave();
    expect(admitted).toBe(false);
    expect(gate.tryEnter(5)).toBe(true);
  });

  it("refuses a job whose signal was aborted before it came", async () => {
    const gate = new SlotGate(1);
    const stop = new AbortController();
    stop.abort(new Error("cancelled"));
    await expect(gate.enter(5, stop.signal, () => undefined)).rejects.toThrow("cancelled");
    expect(gate.tryEnter(5)).toBe(true);
  });

  it("gives no slot while held, and gives them highest first on release", async () => {
    const gate = new SlotGate(2);
    gate.hold();
    expect(gate.tryEnter(9)).toBe(false);
    const order: number[] = [];
    const waits = [1, 9, 5].map((priority) =>
      gate.enter(priority, running, () => order.push(priority)),
    );
    expect(order).toEqual([]);
    gate.release();
    expect(order).toEqual([9, 5]);
    gate.leave();
    await Promise.all(waits);
    expect(order).toEqual([9, 5, 1]);
  });
});
