/**
 * Storing a batch took longer than its deadline. The MongoDB driver can leave an operation
 * pending forever when its connection closes at the wrong moment, so each attempt has a deadline
 * and is retried after it.
 */
export class StoreTimeoutError extends Error {
  override readonly name = "StoreTimeoutError";
  readonly timeoutMs: number;

  constructor(timeoutMs: number, options?: { cause?: unknown }) {
    super(`storing the batch took longer than ${timeoutMs} ms`, options);
    this.timeoutMs = timeoutMs;
  }
}
