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

/** A job type registration was refused; `issues` name each bad field (`payloadSchema`, `retry.factor`). */
export class InvalidJobTypeError extends Error {
  override readonly name = "InvalidJobTypeError";
  readonly issues: readonly ValidationIssue[];

  constructor(message: string, issues: readonly ValidationIssue[], options?: { cause?: unknown }) {
    super(message, options);
    this.issues = issues;
  }
}
