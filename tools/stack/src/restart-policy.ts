/** When `npm start` restarts a crashed service, and when it gives up. */
export interface RestartPolicy {
  /** Quick crashes in a row that are restarted; the next one stops the stack. @default 5 */
  maxQuickCrashes: number;
  /** A run at least this long resets the crash count, in milliseconds. @default 30000 */
  stableAfterMs: number;
  /** Delay before the first restart, doubled per quick crash, in milliseconds. @default 1000 */
  baseDelayMs: number;
  /** Longest delay between restarts, in milliseconds. @default 15000 */
  maxDelayMs: number;
}

export const defaultRestartPolicy: RestartPolicy = {
  maxQuickCrashes: 5,
  stableAfterMs: 30_000,
  baseDelayMs: 1000,
  maxDelayMs: 15_000,
};

/** What to do after a crash. `crashes` is the new count of consecutive quick crashes. */
export type RestartDecision =
  { action: "restart"; delayMs: number; crashes: number } | { action: "give-up"; crashes: number };

/**
 * Decides after a crash: restart with exponential backoff, or give up when the service keeps
 * crashing soon after start (a config error will not fix itself).
 */
export function decideRestart(
  previousCrashes: number,
  uptimeMs: number,
  policy: RestartPolicy = defaultRestartPolicy,
): RestartDecision {
  const crashes = uptimeMs >= policy.stableAfterMs ? 1 : previousCrashes + 1;
  if (crashes > policy.maxQuickCrashes) return { action: "give-up", crashes };
  const delayMs = Math.min(policy.baseDelayMs * 2 ** (crashes - 1), policy.maxDelayMs);
  return { action: "restart", delayMs, crashes };
}
