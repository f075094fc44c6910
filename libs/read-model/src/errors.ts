import type { ExpiredCounts, ExpiringKind } from "./retention.ts";

/** A list query was given an option it cannot use. `field` names the option (`cursor`, `limit`, ...). */
export class InvalidQueryError extends Error {
  override readonly name: string = "InvalidQueryError";
  readonly field: string;

  constructor(field: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.field = field;
  }
}

/** A pagination cursor that this read model did not produce (or that was altered). */
export class InvalidCursorError extends InvalidQueryError {
  override readonly name: string = "InvalidCursorError";

  constructor(
    message = "cursor is not a cursor returned by this list",
    options?: { cause?: unknown },
  ) {
    super("cursor", message, options);
  }
}

/** An event was applied to the document of another job: a bug in the caller, never bad input. */
export class JobMismatchError extends Error {
  override readonly name = "JobMismatchError";
  readonly documentId: string;
  readonly eventJobId: string;

  constructor(documentId: string, eventJobId: string) {
    super(`event of job ${eventJobId} applied to the document of job ${documentId}`);
    this.documentId = documentId;
    this.eventJobId = eventJobId;
  }
}

/** A stored read-model document that cannot be merged (not written by this lib); rebuilding fixes it. */
export class InvalidDocumentError extends Error {
  override readonly name = "InvalidDocumentError";
  readonly documentId: string;

  constructor(documentId: string, problem: string, options?: { cause?: unknown }) {
    super(`document ${documentId} cannot be merged: ${problem}`, options);
    this.documentId = documentId;
  }
}

/**
 * A retention sweep could not delete the expired documents of one or more collections (the others
 * were swept): what it deleted, and each collection's error.
 */
export class RetentionSweepError extends Error {
  override readonly name = "RetentionSweepError";
  readonly deleted: Readonly<ExpiredCounts>;
  readonly failures: readonly { kind: ExpiringKind; error: unknown }[];

  constructor(deleted: RetentionSweepError["deleted"], failures: RetentionSweepError["failures"]) {
    const reasons = failures.map(
      ({ kind, error }) => `${kind}: ${error instanceof Error ? error.message : String(error)}`,
    );
    super(`expired documents could not be deleted (${reasons.join("; ")})`, {
      cause: failures[0]?.error,
    });
    this.deleted = deleted;
    this.failures = failures;
  }
}
