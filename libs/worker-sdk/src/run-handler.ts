import { maxTimerMs } from "@conveyor/service-kit";

import { JobCancelledError, JobTimeoutError, WorkerStoppedError } from "./errors.ts";
import type { Settled } from "./outcome.ts";

/** How {@link runHandler} guards one handler call. */
export interface HandlerGuard {
  /** Aborted with the reason the attempt ends early; the handler sees its signal. */
  controller: AbortController;
  /** The attempt's timeout, in milliseconds. Aborts with a {@link JobTimeoutError}. */
  timeoutMs: number;
  /**
   * When the attempt's timeout runs out (`Date.now()` time): a payload's async check and the
   * handler after it share one timeout. @default `timeoutMs` from the call
   */
  deadline?: number;
  /**
   * Aborted to stop waiting for a cancelled handler that is still winding down (the worker
   * stops): the attempt ends at once as cancelled.
   */
  abandon?: AbortSignal;
}

/**
 * Runs a handler until it settles (the delivery keeps the job's lease meanwhile). Never rejects.
 *
 * A timeout or a stop ends the attempt at once: the handler's signal is aborted and a handler that
 * ignores it keeps running detached, its late result ignored. A cancel aborts the signal too, but
 * the attempt waits for the handler to settle (so that `cancelled` means it stopped), up to the
 * attempt's timeout or until `abandon` is aborted; then it is abandoned like a timed-out one.
 */
export async function runHandler(
  handler: () => Promise<unknown>,
  guard: HandlerGuard,
): Promise<Settled> {
  const { signal } = guard.controller;
  if (signal.aborted) return { ok: false, error: signal.reason as unknown };
  const givenUp = Promise.withResolvers<never>();
  const giveUp = () => {
    givenUp.reject(signal.reason as Error);
  };
  // A work item written before job types' timeouts were bounded (maxJobTimeoutMs) may hold more
  // than a timer can wait for: Node would fire it at once, timing out every attempt.
  const left = guard.deadline === undefined ? guard.timeoutMs : guard.deadline - Date.now();
  const timeoutMs = Math.min(Math.max(left, 0), maxTimerMs);
  const timeout = setTimeout(() => {
    // A cancelled handler still running at its timeout is abandoned with the cancel as reason.
    if (signal.aborted) giveUp();
    else guard.controller.abort(new JobTimeoutError(guard.timeoutMs));
  }, timeoutMs);
  // Listening before the handler starts makes the abort reason win over the handler's own
  // rejection caused by the same abort.
  const onAbort = () => {
    if (!(signal.reason instanceof JobCancelledError)) giveUp();
  };
  signal.addEventListener("abort", onAbort, { once: true });
  const onAbandon = () => {
    if (signal.aborted) giveUp();
  };
  guard.abandon?.addEventListener("abort", onAbandon, { once: true });
  try {
    const result = await Promise.race([handler(), givenUp.promise]);
    return { ok: true, result };
  } catch (error) {
    if (signal.aborted) return { ok: false, error: signal.reason as unknown };
    return { ok: false, error: asOrdinaryFailure(error) };
  } finally {
    clearTimeout(timeout);
    signal.removeEventListener("abort", onAbort);
    guard.abandon?.removeEventListener("abort", onAbandon);
  }
}

/**
 * Only this attempt's own signal cancels or stops it. The same errors thrown while it was not
 * aborted come from elsewhere (work shared with another job that was cancelled, another worker's
 * stop): the attempt failed, and is retried by its policy like any failure, under the error's name.
 */
function asOrdinaryFailure(error: unknown): unknown {
  if (!(error instanceof JobCancelledError) && !(error instanceof WorkerStoppedError)) return error;
  const failure = new Error(error.message);
  failure.name = error.name;
  if (error.stack !== undefined) failure.stack = error.stack;
  return failure;
}
