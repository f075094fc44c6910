/**
 * Waits for `promise`, but at most `timeoutMs`: then calls `onTimeout` and resolves. Rejects when
 * `promise` rejects first. Either way its timer is stopped once it is done, so a failure leaves no
 * timer behind to hold the process open and report a timeout later.
 */
export async function waitAtMost(
  promise: Promise<unknown>,
  timeoutMs: number,
  onTimeout: () => void,
): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<void>((resolve) => {
    timer = setTimeout(() => {
      onTimeout();
      resolve();
    }, timeoutMs);
  });
  try {
    await Promise.race([promise, expired]);
  } finally {
    clearTimeout(timer);
  }
}
