import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { runCommand } from "@conveyor/stack";
import { findBinary } from "@conveyor/testing";

import { BenchError } from "../errors.ts";
import type { HttpLoadResult } from "./autocannon.ts";

/** Options of {@link runVegeta}. */
export interface ConstantRateOptions {
  url: string;
  body: string;
  /** Requests per second, each sent at its own time whatever the answers do (an open loop). */
  ratePerSec: number;
  durationS: number;
}

const nsPerMs = 1_000_000;

/** Reads what `vegeta report -type=json` prints. */
export function parseVegetaReport(text: string): HttpLoadResult {
  let raw: {
    duration?: number;
    requests?: number;
    status_codes?: Record<string, number>;
    latencies?: { "50th"?: number; "99th"?: number };
  };
  try {
    raw = JSON.parse(text) as typeof raw;
  } catch {
    throw new BenchError(`vegeta printed no JSON report:\n${text}`);
  }
  const accepted = Object.entries(raw.status_codes ?? {})
    .filter(([code]) => code.startsWith("2"))
    .reduce((sum, [, n]) => sum + n, 0);
  const durationS = (raw.duration ?? Number.NaN) / (1000 * nsPerMs);
  return {
    acceptedPerSec: accepted / durationS,
    p50Ms: (raw.latencies?.["50th"] ?? Number.NaN) / nsPerMs,
    p99Ms: (raw.latencies?.["99th"] ?? Number.NaN) / nsPerMs,
    // Code 0 is vegeta's for a request that got no answer (a socket error or timeout).
    failures: (raw.requests ?? 0) - accepted,
  };
}

/**
 * POSTs `body` to `url` at a constant rate with vegeta (`npm run bench` provisions it into
 * `.tools/bin`), in processes of its own: `vegeta attack`, then `vegeta report -type=json` of its
 * results. Unlike autocannon's rate limit, which lets each connection send its share of a second
 * back to back and then idle, every request leaves at its own time, so the latencies are those of
 * the rate.
 */
export async function runVegeta(options: ConstantRateOptions): Promise<HttpLoadResult> {
  const vegeta = findBinary("vegeta");
  const dir = await mkdtemp(join(tmpdir(), "conveyor-vegeta-"));
  const file = (name: string) => join(dir, name);
  try {
    await writeFile(file("targets.txt"), `POST ${options.url}\n`);
    await writeFile(file("body.json"), options.body);
    await runStep(vegeta, [
      "attack",
      `-rate=${String(options.ratePerSec)}/1s`,
      `-duration=${String(options.durationS)}s`,
      `-targets=${file("targets.txt")}`,
      `-body=${file("body.json")}`,
      "-header=Content-Type: application/json",
      `-output=${file("results.bin")}`,
    ]);
    await runStep(vegeta, [
      "report",
      "-type=json",
      `-output=${file("report.json")}`,
      file("results.bin"),
    ]);
    return parseVegetaReport(await readFile(file("report.json"), "utf8"));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Runs one vegeta command; throws with what it printed when it fails. */
async function runStep(vegeta: string, args: readonly string[]): Promise<void> {
  const { code, output } = await runCommand(vegeta, args);
  if (code !== 0) {
    throw new BenchError(`vegeta ${args[0] ?? ""} exited with ${String(code)}:\n${output}`);
  }
}
