import { ConsumerName } from "@conveyor/contracts";

/** How the projector reads the events and dead-letter streams and writes MongoDB. */
export interface ProjectorOptions {
  /** Most messages projected together (one `find` and one `bulkWrite`). @default 500 */
  batchSize?: number;
  /**
   * How long to wait for more events to fill a batch once one has arrived, in milliseconds.
   * 0 takes only what has already arrived. @default 0
   */
  batchLingerMs?: number;
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
  /** Longest one attempt to store a batch may take before it is retried, in milliseconds. @default 30000 */
  storeTimeoutMs?: number;
}

export type ResolvedProjectorOptions = Required<ProjectorOptions>;

export function resolveProjectorOptions(options: ProjectorOptions = {}): ResolvedProjectorOptions {
  return {
    batchSize: options.batchSize ?? 500,
    batchLingerMs: options.batchLingerMs ?? 0,
    consumer: options.consumer ?? ConsumerName.Projector,
    deadLetterConsumer: options.deadLetterConsumer ?? ConsumerName.ProjectorDeadLetters,
    retryInitialDelayMs: options.retryInitialDelayMs ?? 200,
    retryMaxDelayMs: options.retryMaxDelayMs ?? 5000,
    storeTimeoutMs: options.storeTimeoutMs ?? 30_000,
  };
}
