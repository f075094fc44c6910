import { spawn } from "node:child_process";
import type { ChildProcessByStdio } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Readable, Writable } from "node:stream";

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
 * `.tools/bin`), in processes of its own: `vegeta attack | vegeta report -type=json`. Unlike
 * autocannon's rate limit, which lets each connection send its share of a second back to back
 * and then idle, every request leaves at its own time, so the latencies are those of the rate.
 */
export async function runVegeta(options: ConstantRateOptions): Promise<HttpLoadResult> {
  const vegeta = findBinary("vegeta");
  const dir = await mkdtemp(join(tmpdir(), "conveyor-vegeta-"));
  try {
    const bodyFile = join(dir, "body.json");
    await writeFile(bodyFile, options.body);
    const attack = spawn(
      vegeta,
      [
        "attack",
        `-rate=${String(options.ratePerSec)}/1s`,
        `-duration=${String(options.durationS)}s`,
        `-body=${bodyFile}`,
        "-header=Content-Type: application/json",
      ],
      { stdio: ["pipe", "pipe", "pipe"] },
    );
    const report = spawn(vegeta, ["report", "-type=json"], { stdio: ["pipe", "pipe", "pipe"] });
    attack.stdout.pipe(report.stdin);
    attack.stdin.end(`POST ${options.url}\n`);
    // The attack's stdout is the report's input; only the report's own is read.
    const [attackOut, reportOut] = await Promise.all([
      finished(attack, { readStdout: false }),
      finished(report, { readStdout: true }),
    ]);
    if (attackOut.code !== 0) {
      throw new BenchError(
        `vegeta attack exited with ${String(attackOut.code)}:\n${attackOut.stderr}`,
      );
    }
    if (reportOut.code !== 0) {
      throw new BenchError(
        `vegeta report exited with ${String(reportOut.code)}:\n${reportOut.stderr}`,
      );
    }
    return parseVegetaReport(reportOut.stdout);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Waits for `child` to exit; collects its stderr, and its stdout when `readStdout`. */
function finished(
  child: ChildProcessByStdio<Writable, Readable, Readable>,
  { readStdout }: { readStdout: boolean },
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  let stdout = "";
  let stderr = "";
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString("utf8")));
  if (readStdout) child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString("utf8")));
  return new Promise((resolve, reject) => {
    child.once("error", reject);
    child.once("close", (code) => {
      resolve({ code, stdout, stderr });
    });
  });
}
