import { JobId, ValidationIssue, rejectionJobIdChars } from "@conveyor/contracts";
import { z } from "zod";

import { Cursor, Limit } from "./common.ts";

/** A submission the dispatcher refused (direct NATS publishers have no other way to learn it). */
export const RejectionView = z.object({
  id: z.string(),
  at: z.iso.datetime(),
  subject: z.string(),
  /** `invalid_json`, `invalid_envelope`, `unknown_type`, `invalid_payload`, ... */
  reason: z.string(),
  message: z.string(),
  issues: z.array(ValidationIssue),
  /** The job id the message carried, when one could be read. */
  jobId: z.string().nullable(),
  /** The start of the raw message text. */
  rawPreview: z.string(),
  sizeBytes: z.int(),
  traceId: z.string().nullable(),
});
export type RejectionView = z.output<typeof RejectionView>;

export const RejectionList = z.object({
  items: z.array(RejectionView),
  nextCursor: z.string().nullable(),
});

/** Query of `GET /v1/rejections`; strict, so that a misspelt filter is refused rather than ignored. */
export const ListRejectionsQuery = z.strictObject({
  limit: Limit,
  cursor: Cursor.optional(),
  /** Only the rejections of submissions that named this job id (as they named it). */
  jobId: z.string().min(1).max(rejectionJobIdChars).optional(),
});

export const RejectionIdParams = z.object({ id: JobId });
