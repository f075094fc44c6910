import { DeadlineError } from "../errors.ts";

/**
 * Settles with `promise`, or rejects with a {@link DeadlineError} after `timeoutMs`. The operation
 * itself is not cancelled; its late outcome is ignored.
 */
export async function withTimeout<T>(
  promise: Promise<T>,
  timeoutMs: number,
  what: string,
): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      reject(new DeadlineError(what, timeoutMs));
    }, timeoutMs);
  });
  try {
    return await Promise.race([promise, deadline]);
  } finally {
    clearTimeout(timer);
  }
}
