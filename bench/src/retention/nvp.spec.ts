import { describe, expect, it } from "vitest";

import { summarizeNvp } from "./nvp.ts";

describe("summarizeNvp", () => {
  it("counts young and full collections, sums what survived and the pauses", () => {
    const output = [
      "[1:0x1:0]       60 ms: pause=0.6 mutator=57.8 gc=s reduce_memory=0 new_space_survived=1048576 promoted=0",
      "a log line of the process itself",
      "[1:0x1:0]       90 ms: pause=2.4 mutator=20.0 gc=s reduce_memory=0 new_space_survived=3145728 promoted=2097152",
      "[1:0x1:0]      120 ms: pause=10.0 mutator=5.0 gc=mc reduce_memory=0 promoted=7",
    ].join("\n");
    expect(summarizeNvp(output)).toEqual({
      young: 2,
      full: 1,
      survivedMiB: 4,
      promotedMiB: 2,
      pauseMs: 13,
    });
  });

  it("reports nothing for output without collections", () => {
    expect(summarizeNvp("hello\n")).toEqual({
      young: 0,
      full: 0,
      survivedMiB: 0,
      promotedMiB: 0,
      pauseMs: 0,
    });
  });
});
