/** Longest wait before a message whose handling failed is tried again, in milliseconds. */
export const maxRetryDelayMs = 30_000;

/**
 * Delay before a mailbox message whose handling failed (NATS away, a stream missing) is delivered
 * again: 1 s after the first failed delivery, doubling up to 30 s.
 */
export function retryDelayMs(deliveryCount: number): number {
  return Math.min(maxRetryDelayMs, 1000 * 2 ** Math.max(0, Math.min(deliveryCount - 1, 15)));
}
