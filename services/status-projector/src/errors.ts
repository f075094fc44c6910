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

/**
 * Documents could not be replaced because another write stored their `_id` in between (see
 * `bulkReplaceRevisions`), again after being folded anew. Transient: the batch is retried.
 */
export class StoreConflictError extends Error {
  override readonly name = "StoreConflictError";
  readonly ids: readonly string[];

  constructor(ids: readonly string[]) {
    super(`documents changed while being written: ${ids.slice(0, 5).join(", ")}`);
    this.ids = ids;
  }
}

/**
 * A projector's durable consumer, or its stream, no longer exists: nothing will be delivered
 * again until it is provisioned. The service exits on it, and its topology check names what is
 * missing when the supervisor starts it again.
 */
export class ConsumerGoneError extends Error {
  override readonly name = "ConsumerGoneError";
  readonly stream: string;
  readonly consumer: string;

  constructor(stream: string, consumer: string, options?: { cause?: unknown }) {
    super(`consumer ${consumer} on stream ${stream} no longer exists`, options);
    this.stream = stream;
    this.consumer = consumer;
  }
}
