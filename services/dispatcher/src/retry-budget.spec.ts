import { TimeoutError } from "@nats-io/transport-node";
import { describe, expect, it } from "vitest";

import { RetryBudget } from "./retry-budget.ts";

const storedAt = new Date("2026-12-08T00:00:00Z");
const delivery = (deliveryCount: number, seq = 7, time = storedAt) => ({
  seq,
  time,
  info: { deliveryCount },
});
const defect = new TypeError("a defect");

describe("RetryBudget", () => {
  it("gives a message that keeps failing up at its giveUpAfter-th delivery", () => {
    const budget = new RetryBudget(10);
    for (let n = 1; n < 10; n++) expect(budget.spentBy(delivery(n), defect)).toBe(false);
    expect(budget.lastIfFails(delivery(10))).toBe(true);
    expect(budget.spentBy(delivery(10), defect)).toBe(true);
  });

  it("never spends the budget on an outage, and gives a few fresh retries after one", () => {
    const budget = new RetryBudget(10);
    for (let n = 1; n <= 40; n++)
      expect(budget.spentBy(delivery(n), new TimeoutError())).toBe(false);
    for (let n = 41; n <= 44; n++) expect(budget.spentBy(delivery(n), defect)).toBe(false);
    expect(budget.spentBy(delivery(45), defect)).toBe(true);
  });

  it("keeps the server's bound when replicas or restarts share a message's failures", () => {
    // This replica saw five of its failures; the server has delivered it ten times.
    const budget = new RetryBudget(10);
    for (const n of [2, 4, 6, 8]) expect(budget.spentBy(delivery(n), defect)).toBe(false);
    expect(budget.spentBy(delivery(10), defect)).toBe(true);
  });

  it("counts a message provisioned anew at the same sequence afresh, and forgets a settled one", () => {
    const budget = new RetryBudget(2);
    budget.spentBy(delivery(1), defect);
    expect(budget.lastIfFails(delivery(2, 7, new Date(storedAt.getTime() + 1)))).toBe(false);
    expect(budget.lastIfFails(delivery(2))).toBe(true);
    budget.settled(delivery(2));
    expect(budget.lastIfFails(delivery(2))).toBe(false);
  });

  it("forgets the message whose latest failure is oldest once it remembers too many", () => {
    const budget = new RetryBudget(2, 2);
    budget.spentBy(delivery(1, 1), defect);
    budget.spentBy(delivery(1, 2), defect);
    budget.spentBy(delivery(1, 3), defect);
    expect(budget.lastIfFails(delivery(2, 1))).toBe(false);
    expect(budget.lastIfFails(delivery(2, 3))).toBe(true);
  });
});
