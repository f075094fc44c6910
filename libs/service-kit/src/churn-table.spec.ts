import { describe, expect, it } from "vitest";

import { ChurnTable } from "./churn-table.ts";

describe("ChurnTable", () => {
  it("gets, replaces and deletes entries, counting them", () => {
    const table = new ChurnTable<string>();
    table.set("a", "first");
    table.set(7, "seven");
    table.set("a", "second");
    expect(table.size).toBe(2);
    expect(table.get("a")).toBe("second");
    expect(table.get("7")).toBe("seven");
    expect(table.has(7)).toBe(true);
    expect(table.delete("a")).toBe(true);
    expect(table.delete("a")).toBe(false);
    expect(table.has("a")).toBe(false);
    expect(table.get("a")).toBeUndefined();
    expect(table.size).toBe(1);
  });

  it("counts an entry whose value is undefined", () => {
    const table = new ChurnTable<undefined>();
    table.set("x", undefined);
    expect(table.has("x")).toBe(true);
    expect(table.size).toBe(1);
    expect(table.delete("x")).toBe(true);
    expect(table.size).toBe(0);
  });

  it("takes keys that name properties of ordinary objects as plain keys", () => {
    const table = new ChurnTable<number>();
    expect(table.has("constructor")).toBe(false);
    expect(table.get("toString")).toBeUndefined();
    table.set("__proto__", 1);
    table.set("hasOwnProperty", 2);
    expect(table.get("__proto__")).toBe(1);
    expect(table.get("hasOwnProperty")).toBe(2);
    expect(table.size).toBe(2);
    expect(table.values().sort()).toEqual([1, 2]);
  });

  it("lists a snapshot that stays whole while the table changes", () => {
    const table = new ChurnTable<number>();
    for (let i = 0; i < 5; i++) table.set(`k${i}`, i);
    const seen: number[] = [];
    for (const [key, value] of table.entries()) {
      table.delete(key);
      table.set(`new-${key}`, value + 10);
      seen.push(value);
    }
    expect(seen).toEqual([0, 1, 2, 3, 4]);
    expect(table.values().sort((a, b) => a - b)).toEqual([10, 11, 12, 13, 14]);
  });

  it("adds values under keys of its own, never one an entry has", () => {
    const table = new ChurnTable<string>();
    table.set(1, "set by the caller");
    const first = table.add("a");
    const second = table.add("b");
    table.delete(first);
    const third = table.add("c");
    expect(new Set([first, second, third, 1]).size).toBe(4);
    expect(table.get(1)).toBe("set by the caller");
    expect([table.get(second), table.get(third)]).toEqual(["b", "c"]);
    expect(table.size).toBe(3);
  });

  it("keeps its count through heavy churn", () => {
    const table = new ChurnTable<number>();
    for (let i = 0; i < 10_000; i++) {
      table.set(i, i);
      if (i >= 30) table.delete(i - 30);
    }
    expect(table.size).toBe(30);
    expect(table.get(9_999)).toBe(9_999);
    expect(table.get(9_969)).toBeUndefined();
  });
});
