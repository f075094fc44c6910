import { spawn } from "node:child_process";
import { createRequire } from "node:module";

import { BenchError } from "../errors.ts";

/** What one autocannon run measured. */
export interface HttpLoadResult {
  /** Accepted submissions (2xx answers) per second over the run. */
  acceptedPerSec: number;
  /** Request latency percentiles, in milliseconds. */
  p50Ms: number;
  p99Ms: number;
  /** Answers that were not 2xx, plus socket errors and timeouts. */
  failures: number;
}

/** Options of {@link runAutocannon}. */
export interface HttpLoadOptions {
  url: string;
  body: string;
  connections: number;
  durationS: number;
}

/** Reads the JSON that `autocannon --json` prints. */
export function parseAutocannonJson(text: string): HttpLoadResult {
  const line = text
    .split("\n")
    .map((l) => l.trim())
    .findLast((l) => l.startsWith("{"));
  if (line === undefined) throw new BenchError(`autocannon printed no JSON result:\n${text}`);
  const raw = JSON.parse(line) as {
    duration?: number;
    "2xx"?: number;
    non2xx?: number;
    errors?: number;
    timeouts?: number;
    latency?: { p50?: number; p99?: number };
  };
  const duration = raw.duration ?? Number.NaN;
  return {
    acceptedPerSec: (raw["2xx"] ?? 0) / duration,
    p50Ms: raw.latency?.p50 ?? Number.NaN,
    p99Ms: raw.latency?.p99 ?? Number.NaN,
    // `errors` already counts every timeout (`timeouts` is the part of it that timed out).
    failures: (raw.non2xx ?? 0) + (raw.errors ?? 0),
  };
}

/**
 * Runs autocannon in a process of its own (so the load generator does not share the bench's event
 * loop): POSTs `body` to `url` over `connections` keep-alive connections for `durationS` seconds,
 * each sending its next request when the last is answered. (Its `--overallRate` is not used for
 * a rate: it lets each connection send its share of a second back to back and then idle, and
 * corrects for coordinated omission with a 1 ms interval whatever the rate; see `vegeta.ts`.)
 */
export async function runAutocannon(options: HttpLoadOptions): Promise<HttpLoadResult> {
  const cli = createRequire(import.meta.url).resolve("autocannon");
  const args = [
    cli,
    "--json",
    "--no-progress",
    "--connections",
    String(options.connections),
    "--duration",
    String(options.durationS),
    "--method",
    "POST",
    "--headers",
    "content-type=application/json",
    "--body",
    options.body,
    options.url,
  ];
  const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString("utf8")));
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString("utf8")));
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once("error", reject);
    child.once("exit", resolve);
  });
  if (code !== 0) throw new BenchError(`autocannon exited with ${code}:\n${stderr}`);
  return parseAutocannonJson(stdout);
}
