import { setTimeout as sleep } from "node:timers/promises";

import { describe, expect, it } from "vitest";

import { OneAtATime } from "./one-at-a-time.ts";

describe("OneAtATime", () => {
  it("runs tasks of one key in order, never overlapping, even when one fails", async () => {
    const serial = new OneAtATime();
    const log: string[] = [];
    const task =
      (name: string, ms: number, fail = false) =>
      async () => {
        log.push(`start ${name}`);
        await sleep(ms);
        log.push(`end ${name}`);
        if (fail) throw new Error(name);
        return name;
      };
    const results = await Promise.allSettled([
      serial.run("job-1", task("a", 20, true)),
      serial.run("job-1", task("b", 1)),
    ]);
    expect(log).toEqual(["start a", "end a", "start b", "end b"]);
    expect(results.map((r) => r.status)).toEqual(["rejected", "fulfilled"]);
    expect(serial.size).toBe(0);
  });

  it("runs tasks of different keys concurrently", async () => {
    const serial = new OneAtATime();
    const log: string[] = [];
    const task = (name: string) => async () => {
      log.push(`start ${name}`);
      await sleep(10);
      log.push(`end ${name}`);
    };
    await Promise.all([serial.run("job-1", task("a")), serial.run("job-2", task("b"))]);
    expect(log.slice(0, 2)).toEqual(["start a", "start b"]);
  });
});
