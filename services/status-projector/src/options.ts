import { ConsumerName } from "@conveyor/contracts";

/** How the projector reads the events and dead-letter streams and writes MongoDB. */
export interface ProjectorOptions {
  /** Most messages projected together (one `find` and one `bulkWrite`). @default 500 */
  batchSize?: number;
  /**
   * Most bytes of messages (their bodies) projected together; a message that would take a batch
   * past it goes with the next. A `queued` event carries its job's payload (up to 256 KiB) and a
   * `succeeded` one its result, so 500 large events would otherwise make one write of over
   * 100 MB, which FerretDB took longer to store than an attempt may take (retried from the
   * start, never done), and a heap past a Kubernetes limit once decoded. @default 8388608 (8 MiB)
   */
  batchMaxBytes?: number;
  /**
   * How long a batch waits for more messages after its first one arrived, in milliseconds (what has
   * already arrived is always taken). A job's events published within this time are written as one
   * document; it delays what the read model shows by as much. 0 takes only what has already
   * arrived. @default 20
   */
  batchLingerMs?: number;
  /**
   * Longest the events of an unfinished job are held back, in milliseconds, in the hope that the
   * job finishes meanwhile and its document is written once (on FerretDB an update costs several
   * inserts). A job's final status is never held back; its `queued` and `running` show up to this
   * much later. 0 holds nothing back. @default 1000
   */
  deferMs?: number;
  /**
   * Longest the events of a job the read model does not hold yet (its first `queued` is among
   * them) are held back, in milliseconds. Such a job is written once if it ends within this time,
   * while `GET /v1/jobs/:id` shows it from `EVENTS` meanwhile; only lists show it this much later.
   * A job already written keeps `deferMs`, so its progress stays fresh. @default 5000
   */
  newJobDeferMs?: number;
  /**
   * Most messages held back at once; past it the newest go at once. In a queue the oldest held
   * job is the next to run, so its hold is the one about to pay off. Holding costs memory (due
   * times are kept in order, so a batch does not look at every held message), and the `EVENTS`
   * consumer stops delivering at its `max_ack_pending` (10,000) unacknowledged messages, which
   * leaves room for the batches being stored. @default 8000
   */
  deferLimit?: number;
  /**
   * Most bytes of messages held back at once (a held event and its decoded copy count twice its
   * body): a `queued` event carries its job's payload, up to 256 KiB, so a burst of large jobs
   * would otherwise hold gigabytes. A message that does not fit is written at once.
   * @default 16777216 (16 MiB)
   */
  deferMaxBytes?: number;
  /**
   * Most job documents kept in memory after they were written, so that the next events of a job
   * are merged without reading its document back (the projector is the only writer of `jobs`).
   * 0 reads every document that is not new. @default 10000
   */
  cacheSize?: number;
  /**
   * Most bytes of job documents kept in memory (their BSON size); a document over a sixteenth of
   * it is not kept. @default 33554432 (32 MiB)
   */
  cacheMaxBytes?: number;
  /** Durable consumer on `EVENTS` to read; a rebuild reads a fresh one. @default "status-projector" */
  consumer?: string;
  /**
   * Durable consumer on `DLQ` (`dlq.>`, `dlq-log.>`) to read; a rebuild reads a fresh one.
   * @default "status-projector-dlq"
   */
  deadLetterConsumer?: string;
  /** First delay before writing a batch again while MongoDB is unavailable, in milliseconds. @default 200 */
  retryInitialDelayMs?: number;
  /** Largest such delay, in milliseconds. @default 5000 */
  retryMaxDelayMs?: number;
  /**
   * Longest one attempt to store a batch may take before it is retried, in milliseconds. Give
   * the MongoDB client a `socketTimeoutMS` no longer than this, so that a command held up on the
   * network is cut off with its connection (one the server runs late anyway cannot overwrite a
   * later write: job documents are fenced by their revision).
   * @default {@link defaultStoreTimeoutMs}
   */
  storeTimeoutMs?: number;
  /**
   * Whether a job document's write names the revision it replaces beside its `_id` (see
   * `bulkReplaceRevisions`), so that a write the server runs late cannot overwrite a newer one.
   * Not for a server that looks a document up by index only when its filter is `_id` alone
   * (FerretDB on SQLite): there every such write scans the collection (200 ms per document in one
   * of 50,000).
   * @default whether the server uses indexes beside `_id` (`serverUsesListIndexes`)
   */
  fenceRevisions?: boolean;
}

/** How long one attempt to store a batch may take by default, in milliseconds. */
export const defaultStoreTimeoutMs = 30_000;

export type ResolvedProjectorOptions = Required<ProjectorOptions>;

/** The options with their defaults, once `createProjector` has asked the server about its own. */
export function resolveProjectorOptions(
  options: ProjectorOptions & { fenceRevisions: boolean },
): ResolvedProjectorOptions {
  return {
    batchSize: options.batchSize ?? 500,
    batchMaxBytes: options.batchMaxBytes ?? 8 * 1024 * 1024,
    batchLingerMs: options.batchLingerMs ?? 20,
    deferMs: options.deferMs ?? 1000,
    newJobDeferMs: options.newJobDeferMs ?? 5000,
    deferLimit: options.deferLimit ?? 8000,
    deferMaxBytes: options.deferMaxBytes ?? 16 * 1024 * 1024,
    cacheSize: options.cacheSize ?? 10_000,
    cacheMaxBytes: options.cacheMaxBytes ?? 32 * 1024 * 1024,
    consumer: options.consumer ?? ConsumerName.Projector,
    deadLetterConsumer: options.deadLetterConsumer ?? ConsumerName.ProjectorDeadLetters,
    retryInitialDelayMs: options.retryInitialDelayMs ?? 200,
    retryMaxDelayMs: options.retryMaxDelayMs ?? 5000,
    storeTimeoutMs: options.storeTimeoutMs ?? defaultStoreTimeoutMs,
    fenceRevisions: options.fenceRevisions,
  };
}
