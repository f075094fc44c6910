import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { availableParallelism, loadavg, totalmem } from "node:os";

import { Pins } from "@conveyor/stack";
import { findBinary } from "@conveyor/testing";

import { cpuCheck } from "./cpu-check.ts";

/** The machine and the versions a run measured, for the results. */
export interface MachineInfo {
  cpuModel: string;
  cores: number;
  memoryGiB: number;
  /** 1-minute load average when the run started: other work on a shared machine shows here. */
  loadAverageAtStart: number;
  /** One core's SHA-256 throughput before the servers start, MB/s ({@link cpuCheck}). */
  cpuCheckMBps: number;
  node: string;
  natsServer: string;
  ferretdb: string;
  redis: string;
  bullmq: string;
}

function firstLine(binary: string, args: string[]): string {
  try {
    const result = spawnSync(findBinary(binary), args, { encoding: "utf8" });
    return `${result.stdout}${result.stderr}`.trim().split("\n")[0] ?? "unknown";
  } catch {
    return "unknown";
  }
}

/** The machine and its state at the start in one line, for the log and the results' header. */
export function machineSummary(m: MachineInfo): string {
  return (
    `${m.cpuModel}, ${m.cores} cores, ${m.memoryGiB} GiB, ` +
    `load average ${m.loadAverageAtStart.toFixed(2)} at start, ` +
    `one core hashing ${m.cpuCheckMBps.toFixed(0)} MB/s (SHA-256)`
  );
}

/**
 * Reads the CPU model from /proc/cpuinfo, the rest from os and the binaries themselves, and
 * measures one core's speed (a second of hashing).
 */
export function machineInfo(): MachineInfo {
  let cpuModel = "unknown";
  try {
    cpuModel =
      /^model name\s*:\s*(.+)$/m.exec(readFileSync("/proc/cpuinfo", "utf8"))?.[1] ?? cpuModel;
  } catch {
    // not Linux: keep "unknown"
  }
  const require = createRequire(import.meta.url);
  const bullmq = (require("bullmq/package.json") as { version: string }).version;
  return {
    cpuModel,
    cores: availableParallelism(),
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    loadAverageAtStart: loadavg()[0] ?? Number.NaN,
    cpuCheckMBps: cpuCheck(),
    node: process.version,
    natsServer: firstLine("nats-server", ["--version"]),
    // The pinned build has no version flag; it is built from the pin.
    ferretdb: `FerretDB ${Pins.ferretdb.version}`,
    redis: firstLine("redis-server", ["--version"]),
    bullmq,
  };
}
