export { JobTypeRegistry } from "./registry.ts";
export type { JobTypeRegistryOptions } from "./registry.ts";
export { buildDescriptor, defaultJobTimeoutMs } from "./descriptor.ts";
export type { JobTypeRegistration } from "./descriptor.ts";
export { checkEnvelope, checkSubmission, SubmissionRejection } from "./submission-check.ts";
export type {
  EnvelopeCheck,
  JobTypeLookup,
  JobTypeSource,
  SubmissionCheck,
  SubmissionCheckOptions,
} from "./submission-check.ts";
export {
  checkBulkEnvelope,
  idempotencyKeyInBulk,
  refusalInBulk,
  repeatedIdRefusal,
  repeatedIds,
} from "./bulk-check.ts";
export { claimedId } from "./claimed-id.ts";
export type { BulkCheck } from "./bulk-check.ts";
export { splitBulkJobTrace } from "./bulk-job-trace.ts";
export type { BulkJobTrace, SplitBulkJob } from "./bulk-job-trace.ts";
export { parseSubmissionBytes, preview, BytesRejection } from "./submission-bytes.ts";
export type { ParsedSubmissionBytes } from "./submission-bytes.ts";
export { payloadIssues } from "./payload-schema.ts";
export { lookUpUnseenTypes } from "./unseen-types.ts";
export { payloadShapeIssues } from "./payload-shape.ts";
export { RegistryUnavailableError, InvalidJobTypeError, JobTypeLookupError } from "./errors.ts";
