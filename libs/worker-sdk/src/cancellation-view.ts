import { CancellationRecord, cancelsRun } from "@conveyor/contracts";
import type { CancellableRun } from "@conveyor/contracts";
import { ChurnTable } from "@conveyor/service-kit";

/** Where a delivery learns that its job was cancelled. */
export interface CancellationLookup {
  /** The cancellation that applies to this run of the job, if any (see `cancelsRun`). */
  find(job: CancellableRun): CancellationRecord | undefined;
  /**
   * Calls `onCancel` when a cancellation of this run of the job arrives later. Returns the function
   * that stops listening; call it when the delivery is settled.
   */
  subscribe(job: CancellableRun, onCancel: (record: CancellationRecord) => void): () => void;
}

/** One change of the cancellations bucket, as a KV watch reports it. */
export interface CancellationChange {
  key: string;
  revision: number;
  /** `PUT`, or `DEL`/`PURGE` for a removed entry. */
  operation: string;
  /** The entry's value as text (empty for a removal). */
  value: string;
  /** When the server stored the entry, in epoch milliseconds. */
  storedAt: number;
}

/** Options of {@link CancellationView}. */
export interface CancellationViewOptions {
  /** Told about an entry that is not a cancellation record (it is ignored). */
  onUnreadable?: (change: CancellationChange, error: unknown) => void;
  /**
   * The bucket's `max_age`, in milliseconds: an entry older than this is gone from the server
   * (which tells no watch), so the view forgets it too. 0 keeps entries for good. @default 0
   */
  maxAgeMs?: number;
  /** The clock, in epoch milliseconds. @default Date.now */
  now?: () => number;
}

interface Known {
  revision: number;
  storedAt: number;
  record: CancellationRecord | undefined;
}

interface Subscriber {
  job: CancellableRun;
  onCancel: (record: CancellationRecord) => void;
}

/** Longest time between two sweeps of expired entries, in milliseconds. */
const maxSweepIntervalMs = 60_000;

/**
 * The in-memory view of the `conveyor-cancellations` bucket: job id -> {@link CancellationRecord}.
 * A record cancels the runs up to its `run` of a job submitted before the cancel, so a replay of a
 * job cancelled earlier runs normally, and so does a job that uses the id again later.
 * Changes are applied by revision, so a change reported twice or late never undoes a newer one.
 * Entries the bucket's max age has expired are forgotten, so memory does not grow for good.
 */
export class CancellationView implements CancellationLookup {
  #known = new Map<string, Known>();
  /** By job id; a `ChurnTable`, as every job in flight subscribes and unsubscribes. */
  readonly #subscribers = new ChurnTable<Set<Subscriber>>();
  readonly #onUnreadable: (change: CancellationChange, error: unknown) => void;
  readonly #maxAgeMs: number;
  readonly #now: () => number;
  #sweptAt: number;

  constructor(options: CancellationViewOptions = {}) {
    this.#onUnreadable = options.onUnreadable ?? (() => {});
    this.#maxAgeMs = options.maxAgeMs ?? 0;
    this.#now = options.now ?? Date.now;
    this.#sweptAt = this.#now();
  }

  /** Cancelled jobs known now. */
  get size(): number {
    let count = 0;
    for (const known of this.#known.values()) if (known.record !== undefined) count++;
    return count;
  }

  find(job: CancellableRun): CancellationRecord | undefined {
    const known = this.#known.get(job.id);
    if (known === undefined || this.#expired(known, this.#now())) return undefined;
    const { record } = known;
    return record !== undefined && cancelsRun(record, job) ? record : undefined;
  }

  subscribe(job: CancellableRun, onCancel: (record: CancellationRecord) => void): () => void {
    const jobId = job.id;
    const subscriber: Subscriber = { job, onCancel };
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
    this.#sweepNowAndThen();
    const known = this.#known.get(change.key);
    if (known !== undefined && known.revision >= change.revision) return;
    const record = this.#store(change);
    if (record !== undefined) this.#tell(change.key, record);
  }

  /**
   * Replaces the whole view with the bucket's entries as a new watch reports them (revisions
   * may start again at 1 in a recreated bucket), and tells running deliveries about cancels that
   * arrived while no watch ran.
   */
  reset(changes: readonly CancellationChange[]): void {
    this.#known = new Map();
    for (const change of changes) this.#store(change);
    this.#sweep(this.#now());
    for (const [jobId] of this.#subscribers.entries()) {
      const record = this.#known.get(jobId)?.record;
      if (record !== undefined) this.#tell(jobId, record);
    }
  }

  #store(change: CancellationChange): CancellationRecord | undefined {
    const record = change.operation === "PUT" ? this.#decode(change) : undefined;
    this.#known.set(change.key, { revision: change.revision, storedAt: change.storedAt, record });
    return record;
  }

  #tell(jobId: string, record: CancellationRecord): void {
    for (const subscriber of this.#subscribers.get(jobId) ?? []) {
      if (cancelsRun(record, subscriber.job)) subscriber.onCancel(record);
    }
  }

  #sweepNowAndThen(): void {
    if (this.#maxAgeMs <= 0) return;
    const now = this.#now();
    if (now - this.#sweptAt >= Math.min(this.#maxAgeMs, maxSweepIntervalMs)) this.#sweep(now);
  }

  #sweep(now: number): void {
    this.#sweptAt = now;
    if (this.#maxAgeMs <= 0) return;
    for (const [jobId, known] of this.#known) {
      if (this.#expired(known, now)) this.#known.delete(jobId);
    }
  }

  #expired(known: Known, now: number): boolean {
    return this.#maxAgeMs > 0 && known.storedAt + this.#maxAgeMs <= now;
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
