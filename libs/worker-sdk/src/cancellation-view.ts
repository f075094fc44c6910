import { CancellationRecord } from "@conveyor/contracts";

/** Where a delivery learns that its job was cancelled. */
export interface CancellationLookup {
  /** The cancellation that applies to this run of the job, if any. */
  find(jobId: string, run: number): CancellationRecord | undefined;
  /**
   * Calls `onCancel` when a cancellation of this run of the job arrives later. Returns the function
   * that stops listening; call it when the delivery is settled.
   */
  subscribe(jobId: string, run: number, onCancel: (record: CancellationRecord) => void): () => void;
}

/** One change of the cancellations bucket, as a KV watch reports it. */
export interface CancellationChange {
  key: string;
  revision: number;
  /** `PUT`, or `DEL`/`PURGE` for a removed entry. */
  operation: string;
  /** The entry's value as text (empty for a removal). */
  value: string;
}

interface Known {
  revision: number;
  record: CancellationRecord | undefined;
}

interface Subscriber {
  run: number;
  onCancel: (record: CancellationRecord) => void;
}

/**
 * The in-memory view of the `conveyor-cancellations` bucket: job id -> {@link CancellationRecord}.
 * A record cancels the runs up to its `run`, so a replay of a job cancelled earlier runs normally.
 * Changes are applied by revision, so a change reported twice or late never undoes a newer one.
 */
export class CancellationView implements CancellationLookup {
  readonly #known = new Map<string, Known>();
  readonly #subscribers = new Map<string, Set<Subscriber>>();
  readonly #onUnreadable: (change: CancellationChange, error: unknown) => void;

  /** @param onUnreadable told about an entry that is not a cancellation record (it is ignored). */
  constructor(onUnreadable: (change: CancellationChange, error: unknown) => void = () => {}) {
    this.#onUnreadable = onUnreadable;
  }

  /** Cancelled jobs known now. */
  get size(): number {
    let count = 0;
    for (const known of this.#known.values()) if (known.record !== undefined) count++;
    return count;
  }

  find(jobId: string, run: number): CancellationRecord | undefined {
    const record = this.#known.get(jobId)?.record;
    return record !== undefined && run <= record.run ? record : undefined;
  }

  subscribe(
    jobId: string,
    run: number,
    onCancel: (record: CancellationRecord) => void,
  ): () => void {
    const subscriber: Subscriber = { run, onCancel };
    let subscribers = this.#subscribers.get(jobId);
    if (subscribers === undefined) {
      subscribers = new Set();
      this.#subscribers.set(jobId, subscribers);
    }
    subscribers.add(subscriber);
    return () => {
      subscribers.delete(subscriber);
      if (subscribers.size === 0) this.#subscribers.delete(jobId);
    };
  }

  /** Applies one change of the bucket and tells the deliveries of a newly cancelled run. */
  apply(change: CancellationChange): void {
    const known = this.#known.get(change.key);
    if (known !== undefined && known.revision >= change.revision) return;
    const record = change.operation === "PUT" ? this.#decode(change) : undefined;
    this.#known.set(change.key, { revision: change.revision, record });
    if (record === undefined) return;
    for (const subscriber of this.#subscribers.get(change.key) ?? []) {
      if (subscriber.run <= record.run) subscriber.onCancel(record);
    }
  }

  #decode(change: CancellationChange): CancellationRecord | undefined {
    try {
      return CancellationRecord.parse(JSON.parse(change.value));
    } catch (err) {
      this.#onUnreadable(change, err);
      return undefined;
    }
  }
}
