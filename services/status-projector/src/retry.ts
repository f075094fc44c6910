import { setTimeout as sleep } from "node:timers/promises";

import { StoreTimeoutError } from "./errors.ts";

/**
 * Longest wait, on stopping, for an abandoned attempt to settle, in milliseconds: what a write
 * still in flight needs to land or fail, within a stop's grace period.
 */
export const abandonedOnStopMs = 5000;

/** Backoff between attempts of an operation that waits for a dependency to come back. */
export interface RetryOptions {
  /** Delay after the first failure, in milliseconds; doubles after each further one. */
  initialDelayMs: number;
  /** Largest delay, in milliseconds. */
  maxDelayMs: number;
  /** Longest one attempt may take before it counts as failed, in milliseconds. */
  attemptTimeoutMs: number;
  /** Whether a failure may pass when tried again; any other failure is thrown at once. */
  isTransient: (err: unknown) => boolean;
  /**
   * Aborting ends the retries with an `AbortError`. An attempt in progress is given
   * `finishOnStopMs` to finish (its result is then returned: a healthy write is not thrown away
   * and done again by the next projector), then abandoned, and given up to
   * {@link abandonedOnStopMs} more to settle.
   */
  signal: AbortSignal;
  /** How long an attempt in progress may still finish once `signal` aborts. @default {@link abandonedOnStopMs} */
  finishOnStopMs?: number;
  /** Called after each transient failure with the error and the delay before the next attempt. */
  onError: (err: unknown, attempt: number, delayMs: number) => void;
}

/**
 * Runs `fn` until it succeeds, fails for a reason that is not transient, or `signal` aborts.
 *
 * An attempt that outlives `attemptTimeoutMs` is abandoned: the signal `fn` was given aborts, and
 * the next attempt starts only once the abandoned one has settled (or after another
 * `attemptTimeoutMs`), so that it makes no further writes beside a later attempt's. `fn` must
 * check its signal before each write. (A write the server received but runs after that is the
 * caller's to fence: the projector's job documents carry a revision for it.)
 */
export async function retryUntilAborted<T>(
  fn: (attemptSignal: AbortSignal) => Promise<T>,
  options: RetryOptions,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    options.signal.throwIfAborted();
    const abandon = new AbortController();
    const work = fn(abandon.signal);
    try {
      return await withDeadline(work, options.attemptTimeoutMs, options.signal);
    } catch (err) {
      if (options.signal.aborted) {
        // Stopping: a write under way usually lands in moments, and its batch is then
        // acknowledged rather than handed back. One that does not is abandoned well before its
        // deadline (a write that hangs would hold the stop for up to two, past a pod's grace).
        const finished = await withDeadline(work, options.finishOnStopMs ?? abandonedOnStopMs).then(
          (value) => ({ value }),
          () => undefined,
        );
        if (finished !== undefined) return finished.value;
        abandon.abort(err);
        await settledOrTimedOut(work, Math.min(options.attemptTimeoutMs, abandonedOnStopMs));
        throw abortError(options.signal);
      }
      if (err instanceof StoreTimeoutError) {
        abandon.abort(err);
        await settledOrTimedOut(work, options.attemptTimeoutMs, options.signal);
        if (options.signal.aborted) {
          // A stop while the abandoned attempt settles gives it what a stop gives any attempt,
          // not the rest of a second deadline.
          await settledOrTimedOut(work, options.finishOnStopMs ?? abandonedOnStopMs);
          throw abortError(options.signal);
        }
      }
      if (!options.isTransient(err)) throw err;
      const delayMs = Math.min(options.maxDelayMs, options.initialDelayMs * 2 ** (attempt - 1));
      options.onError(err, attempt, delayMs);
      await sleep(delayMs, undefined, { signal: options.signal });
    }
  }
}

/** Waits until `work` settles, however it does, or `timeoutMs` passed, or `signal` aborts. */
async function settledOrTimedOut(
  work: Promise<unknown>,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<void> {
  await withDeadline(work, timeoutMs, signal).catch(() => undefined);
}

/**
 * Settles like `work`, or rejects with a {@link StoreTimeoutError} after `timeoutMs`, or with the
 * reason of `signal` once it aborts.
 */
async function withDeadline<T>(
  work: Promise<T>,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      reject(new StoreTimeoutError(timeoutMs));
    }, timeoutMs);
    onAbort = () => {
      reject(signal === undefined ? new Error("aborted") : abortError(signal));
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
  try {
    return await Promise.race([work, deadline]);
  } finally {
    clearTimeout(timer);
    if (onAbort) signal?.removeEventListener("abort", onAbort);
  }
}

/** An `AbortError` as `sleep` gives one, caused by the signal's reason. */
function abortError(signal: AbortSignal): Error {
  const err = new Error("the operation was aborted", { cause: signal.reason });
  err.name = "AbortError";
  return err;
}
