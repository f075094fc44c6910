import type { ValidationIssue } from "@conveyor/contracts";

/** The job-types KV bucket does not exist: the topology was not provisioned (`ensureTopology`). */
export class RegistryUnavailableError extends Error {
  override readonly name = "RegistryUnavailableError";
  readonly bucket: string;

  constructor(bucket: string, options?: { cause?: unknown }) {
    super(`job-types bucket "${bucket}" does not exist; provision the topology first`, options);
    this.bucket = bucket;
  }
}

/**
 * A job type could not be looked up in its bucket (NATS not answering, the bucket's stream
 * unavailable): whether it is registered is unknown, so a submission of it must be retried, not
 * refused as of an unknown type.
 */
export class JobTypeLookupError extends Error {
  override readonly name = "JobTypeLookupError";
  readonly type: string;

  constructor(type: string, options?: { cause?: unknown }) {
    const cause = options?.cause;
    super(
      `job type ${type} could not be looked up: ${cause instanceof Error ? cause.message : String(cause)}`,
      options,
    );
    this.type = type;
  }
}

/** A job type registration was refused; `issues` name each bad field (`payloadSchema`, `retry.factor`). */
export class InvalidJobTypeError extends Error {
  override readonly name = "InvalidJobTypeError";
  readonly issues: readonly ValidationIssue[];

  constructor(message: string, issues: readonly ValidationIssue[], options?: { cause?: unknown }) {
    super(message, options);
    this.issues = issues;
  }
}
