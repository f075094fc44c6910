/**
 * Loaded into a Node process with `--import` (through `BENCH_NODE_OPTIONS`), it appends to
 * `<GC_WATCH_DIR>/<pid>.log` every garbage collection pause of at least 5 ms, with the young and
 * old generation's use after it, and every stall of the event loop over 20 ms (a 10 ms timer
 * firing late: a pause, or the process waiting for a core). The first line names the script.
 * Without `GC_WATCH_DIR` it does nothing.
 */
import { appendFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { PerformanceObserver } from "node:perf_hooks";
import type { PerformanceEntry } from "node:perf_hooks";
import { getHeapSpaceStatistics } from "node:v8";

const minPauseMs = 5;
const tickMs = 10;
const minStallMs = 20;

const dir = process.env.GC_WATCH_DIR;
if (dir !== undefined && dir !== "") watch(dir);

function watch(dir: string): void {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${process.pid}.log`);
  const write = (line: string) => {
    appendFileSync(file, `${line}\n`);
  };
  write(`start ${process.argv[1] ?? "node"}`);

  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      if (entry.duration >= minPauseMs) write(`${Date.now()} gc ${describe(entry)}`);
    }
  }).observe({ entryTypes: ["gc"] });

  let last = performance.now();
  setInterval(() => {
    const now = performance.now();
    const late = now - last - tickMs;
    if (late > minStallMs) write(`${Date.now()} stall ${late.toFixed(1)}ms`);
    last = now;
  }, tickMs).unref();
}

/** `kind=<1 minor, 4 major, 8 incremental, 16 weak callbacks> <pause>ms new=<used>/<size> old=...` (MiB). */
function describe(entry: PerformanceEntry): string {
  // A GC entry's `detail` ({ kind, flags }) is not in the PerformanceEntry type.
  const { detail } = entry as PerformanceEntry & { detail?: { kind?: number } };
  const spaces = new Map(getHeapSpaceStatistics().map((s) => [s.space_name, s]));
  const use = (name: string) => {
    const space = spaces.get(name);
    if (space === undefined) return "?";
    return `${mib(space.space_used_size)}/${mib(space.space_size)}`;
  };
  const kind = detail?.kind ?? "?";
  return `kind=${kind} ${entry.duration.toFixed(1)}ms new=${use("new_space")} old=${use("old_space")}`;
}

function mib(bytes: number): string {
  return (bytes / 1048576).toFixed(1);
}
