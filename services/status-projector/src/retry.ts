import { setTimeout as sleep } from "node:timers/promises";

import { StoreTimeoutError } from "./errors.ts";

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
  /** Aborting ends the retries with an `AbortError`. */
  signal: AbortSignal;
  /** Called after each transient failure with the error and the delay before the next attempt. */
  onError: (err: unknown, attempt: number, delayMs: number) => void;
}

/** Runs `fn` until it succeeds, fails for a reason that is not transient, or `signal` aborts. */
export async function retryUntilAborted<T>(
  fn: () => Promise<T>,
  options: RetryOptions,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    options.signal.throwIfAborted();
    try {
      return await withDeadline(fn(), options.attemptTimeoutMs);
    } catch (err) {
      if (!options.isTransient(err)) throw err;
      const delayMs = Math.min(options.maxDelayMs, options.initialDelayMs * 2 ** (attempt - 1));
      options.onError(err, attempt, delayMs);
      await sleep(delayMs, undefined, { signal: options.signal });
    }
  }
}

/** Settles like `work`, or rejects with a {@link StoreTimeoutError} after `timeoutMs`. */
async function withDeadline<T>(work: Promise<T>, timeoutMs: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      reject(new StoreTimeoutError(timeoutMs));
    }, timeoutMs);
  });
  try {
    return await Promise.race([work, deadline]);
  } finally {
    clearTimeout(timer);
  }
}
