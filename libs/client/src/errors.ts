import type { ValidationIssue } from "@conveyor/contracts";

/** A submission the client refused before publishing it; `issues` name the bad fields. */
export class InvalidSubmissionError extends Error {
  override readonly name = "InvalidSubmissionError";
  /** `invalid_envelope`, `invalid_payload` or `type_mismatch`, as the dispatcher would record. */
  readonly reason: string;
  readonly issues: readonly ValidationIssue[];

  constructor(reason: string, message: string, issues: readonly ValidationIssue[]) {
    super(message);
    this.reason = reason;
    this.issues = issues;
  }
}
