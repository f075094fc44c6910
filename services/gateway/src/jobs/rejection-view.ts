import type { RejectionDocument } from "@conveyor/read-model";

import type { RejectionView } from "../schemas/rejections.ts";

/** The API view of a rejection record: `_id` becomes `id`, absent fields are null. */
export function toRejectionView(doc: RejectionDocument): RejectionView {
  return {
    id: doc._id,
    at: doc.at,
    subject: doc.subject,
    reason: doc.reason,
    message: doc.message,
    issues: doc.issues,
    jobId: doc.jobId ?? null,
    rawPreview: doc.rawPreview,
    sizeBytes: doc.sizeBytes,
    traceId: doc.traceId ?? null,
  };
}
