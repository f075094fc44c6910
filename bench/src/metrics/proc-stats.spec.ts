import { describe, expect, it } from "vitest";

import { parseCpuTicks, parseVmRssKib, readProcess } from "./proc-stats.ts";

describe("parseVmRssKib", () => {
  it("reads the VmRSS line in KiB", () => {
    const status = "Name:\tnode\nVmPeak:\t 1000 kB\nVmRSS:\t  123456 kB\nThreads:\t11\n";
    expect(parseVmRssKib(status)).toBe(123_456);
  });

  it("refuses a status without VmRSS (a kernel thread or a zombie)", () => {
    expect(() => parseVmRssKib("Name:\tkthreadd\n")).toThrow(/VmRSS/);
  });
});

describe("parseCpuTicks", () => {
  it("adds utime and stime, counting fields after a command name with spaces and parens", () => {
    // pid (comm) state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime ...
    const stat = "4242 (node (x) y) S 1 4242 4242 0 -1 4194560 100 0 0 0 250 75 0 0 20 0 11 0";
    expect(parseCpuTicks(stat)).toBe(325);
  });

  it("counts the children the process waited for: Redis's snapshots run in forked children", () => {
    // ... utime stime cutime cstime: 250 + 75 of its own, 40 + 10 of its children's.
    const stat = "4242 (redis-server) S 1 4242 4242 0 -1 4194560 100 0 0 0 250 75 40 10 20 0 11 0";
    expect(parseCpuTicks(stat)).toBe(375);
  });

  it("refuses a line it cannot read", () => {
    expect(() => parseCpuTicks("garbage")).toThrow(/\)/);
  });
});

describe("readProcess", () => {
  it("reads this very process, and nothing for a pid that does not exist", async () => {
    const me = await readProcess(process.pid);
    expect(me?.rssKib).toBeGreaterThan(1000);
    expect(me?.cpuSeconds).toBeGreaterThan(0);
    expect(await readProcess(2 ** 30)).toBeUndefined();
  });
});
