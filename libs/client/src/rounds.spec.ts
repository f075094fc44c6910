import { describe, expect, it } from "vitest";

import { inRounds } from "./rounds.ts";

const sizes = (rounds: Iterable<number[]>) => [...rounds];

describe("inRounds", () => {
  it("ends a round at its item count", () => {
    expect(sizes(inRounds([1, 1, 1, 1, 1], (n) => n, { items: 2, bytes: 100 }))).toEqual([
      [1, 1],
      [1, 1],
      [1],
    ]);
  });

  it("ends a round before the item that would take it over its bytes", () => {
    expect(sizes(inRounds([4, 4, 3, 5, 1], (n) => n, { items: 10, bytes: 8 }))).toEqual([
      [4, 4],
      [3, 5],
      [1],
    ]);
  });

  it("sends an item larger than the byte bound in a round of its own", () => {
    expect(sizes(inRounds([2, 20, 2], (n) => n, { items: 10, bytes: 8 }))).toEqual([
      [2],
      [20],
      [2],
    ]);
  });

  it("gives no round for no items", () => {
    expect(sizes(inRounds([], () => 1, { items: 1, bytes: 1 }))).toEqual([]);
  });

  it("takes the items of a round only once the round before it was handed out", () => {
    const taken: number[] = [];
    function* items() {
      for (const n of [1, 2, 3, 4]) {
        taken.push(n);
        yield n;
      }
    }
    const rounds = inRounds(items(), () => 1, { items: 2, bytes: 100 });
    expect(rounds.next().value).toEqual([1, 2]);
    // The third item was taken to find that the first round was full; the fourth was not.
    expect(taken).toEqual([1, 2, 3]);
  });
});
