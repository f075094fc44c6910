import type { DeadLetterLogEntry, ErrorInfo, WorkItem } from "@conveyor/contracts";

/**
 * What became of a job's newest dead letter: still `dead` (in the `DLQ`, to be dealt with), or
 * `replayed` / `discarded` as its dead-letter log says.
 */
export const DeadLetterState = {
  Dead: "dead",
  Replayed: "replayed",
  Discarded: "discarded",
} as const;
export type DeadLetterState = (typeof DeadLetterState)[keyof typeof DeadLetterState];
export const deadLetterStates: readonly DeadLetterState[] = Object.values(DeadLetterState);

/** Where a message is (or was) stored. */
export interface StreamPosition {
  stream: string;
  subject: string;
  /** The message's stream sequence. */
  seq: number;
}

/** One replay or discard of a job's letter: its `dlq-log.<jobId>` entry without the job id. */
export type DeadLetterLogRecord = Omit<DeadLetterLogEntry, "jobId">;

interface DeadLetterDocumentBase {
  /** The job id; `<stream>:<seq>` of the work message when the letter named no job. */
  _id: string;
  /** The job id; absent when the letter named no job. */
  jobId?: string;
  type: string;
  /** The run that died. */
  run: number;
  /**
   * Where the letter is (or was) in the `DLQ` stream: `dlq.<type>` and its sequence, which replay
   * and discard commands name.
   */
  source: StreamPosition;
  /** Every replay and discard of the job's letters, ordered by run, then action. */
  log: DeadLetterLogRecord[];
  /**
   * How many times the projector has written the document, as a job document's `revision`: a
   * write replaces only the revision it was folded from. Not part of what the `DLQ` says: the
   * reducer leaves it out.
   */
  revision?: number;
}

/** A job's newest letter while it waits in the `DLQ` to be replayed or discarded. */
export interface OpenDeadLetterDocument extends DeadLetterDocumentBase {
  state: typeof DeadLetterState.Dead;
  /** Deliveries of the work message, the last one included. */
  attempts: number;
  /** `non_retryable`, `attempts_exhausted`, `deliveries_exceeded`, ... */
  reason: string;
  /** The last attempt's error. */
  error: ErrorInfo;
  /** ISO-8601 UTC, millisecond precision (as every timestamp in the read model). */
  deadAt: string;
  /** The worker that dead-lettered it; absent when the dispatcher did. */
  workerId?: string;
  traceId?: string;
  /** The work item as queued; absent when the message was not a readable work item. */
  workItem?: WorkItem;
  /** The start of the message body, when it was not a readable work item. */
  rawPreview?: string;
  /** Where the work message was when it was dead-lettered. */
  workSource: StreamPosition;
}

/**
 * A job whose newest letter was replayed or discarded. The dispatcher deletes such a letter from
 * the `DLQ`, so only what its log entry says is kept: a rebuild from the stream could not
 * restore more. The job's `jobs` document keeps the error history.
 */
export interface SettledDeadLetterDocument extends DeadLetterDocumentBase {
  jobId: string;
  state: typeof DeadLetterState.Replayed | typeof DeadLetterState.Discarded;
  /** When the dispatcher replayed or discarded the letter. */
  settledAt: string;
}

/**
 * The dead-letter read model of one job (collection `dead_letters`), a projection of the `DLQ`
 * stream: the job's newest letter (`dlq.<type>`) merged with its log (`dlq-log.<jobId>`).
 */
export type DeadLetterDocument = OpenDeadLetterDocument | SettledDeadLetterDocument;

export function isOpenDeadLetter(doc: DeadLetterDocument): doc is OpenDeadLetterDocument {
  return doc.state === DeadLetterState.Dead;
}
