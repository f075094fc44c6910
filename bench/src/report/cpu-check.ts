import { createHash } from "node:crypto";

/** How {@link cpuCheck} measures. */
export interface CpuCheckOptions {
  /** How long to hash, in milliseconds. @default 1000 */
  durationMs?: number;
  /** A clock in milliseconds. @default performance.now */
  now?: () => number;
}

/** Bytes hashed per step: large enough that the clock is read rarely. */
const chunk = Buffer.alloc(64 * 1024, 0x5a);

/**
 * How fast one core of this machine is right now: SHA-256 throughput in MB/s over `durationMs`.
 * On a shared (virtual) machine the speed a run gets can change by a factor of two from one hour
 * to the next; the figure, taken before the servers start, tells runs of different speed apart.
 */
export function cpuCheck(options: CpuCheckOptions = {}): number {
  const durationMs = options.durationMs ?? 1000;
  const now = options.now ?? (() => performance.now());
  const start = now();
  let bytes = 0;
  let elapsed = 0;
  do {
    createHash("sha256").update(chunk).digest();
    bytes += chunk.length;
    elapsed = now() - start;
  } while (elapsed < durationMs);
  return bytes / 1e6 / (elapsed / 1000);
}
