import { setTimeout as sleep } from "node:timers/promises";

import { WaitTimeoutError } from "./errors.ts";

/** Options of {@link waitFor}. */
export interface WaitForOptions {
  /** How long to keep probing, in milliseconds. @default 10000 */
  timeoutMs?: number;
  /** Pause between probes, in milliseconds. @default 50 */
  intervalMs?: number;
  /** What was awaited, for the timeout error. @default "condition not met" */
  message?: string;
}

/**
 * Calls `probe` until it returns a truthy value and returns that value. A probe that throws counts
 * as "not yet"; its last error becomes the timeout error's `cause`.
 */
export async function waitFor<T>(
  probe: () => Promise<T | undefined | null | false>,
  options: WaitForOptions = {},
): Promise<T> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const intervalMs = options.intervalMs ?? 50;
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined && value !== null && value !== false) return value;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() >= deadline) {
      throw new WaitTimeoutError(options.message ?? "condition not met", timeoutMs, {
        cause: lastError,
      });
    }
    await sleep(intervalMs);
  }
}
