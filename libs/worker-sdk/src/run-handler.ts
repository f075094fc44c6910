import { JobTimeoutError } from "./errors.ts";
import type { Settled } from "./outcome.ts";

/** How {@link runHandler} guards one handler call. */
export interface HandlerGuard {
  /** Aborted with the reason the attempt ends early; the handler sees its signal. */
  controller: AbortController;
  /** The attempt's timeout, in milliseconds. Aborts with a {@link JobTimeoutError}. */
  timeoutMs: number;
  /** Renews the lease on the job; called every `heartbeatMs` while the handler runs. */
  heartbeat: () => void;
  heartbeatMs: number;
}

/**
 * Runs a handler until it settles or its controller is aborted (timeout or stop), whichever comes
 * first, renewing the job's lease meanwhile. Never rejects. A handler that ignores the abort keeps
 * running detached; its late result is ignored.
 */
export async function runHandler(
  handler: () => Promise<unknown>,
  guard: HandlerGuard,
): Promise<Settled> {
  const { signal } = guard.controller;
  if (signal.aborted) return { ok: false, error: signal.reason as unknown };
  const timeout = setTimeout(() => {
    guard.controller.abort(new JobTimeoutError(guard.timeoutMs));
  }, guard.timeoutMs);
  const lease = setInterval(guard.heartbeat, guard.heartbeatMs);
  // Listening before the handler starts makes the abort reason win over the handler's own
  // rejection caused by the same abort.
  const aborted = new Promise<never>((_resolve, reject) => {
    signal.addEventListener(
      "abort",
      () => {
        reject(signal.reason as Error);
      },
      { once: true },
    );
  });
  try {
    const result = await Promise.race([handler(), aborted]);
    return { ok: true, result };
  } catch (error) {
    return { ok: false, error: signal.aborted ? (signal.reason as unknown) : error };
  } finally {
    clearTimeout(timeout);
    clearInterval(lease);
  }
}
