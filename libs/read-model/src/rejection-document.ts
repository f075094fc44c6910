import type { RejectedEvent } from "@conveyor/contracts";

import type { RejectionDocument } from "./documents.ts";
import { canonicalTime } from "./order.ts";

/** The rejection record of a `rejected` event. A rejection never changes, so replacing it is idempotent. */
export function rejectionFromEvent(event: RejectedEvent): RejectionDocument {
  return {
    _id: event.rejectionId,
    at: canonicalTime(event.at),
    subject: event.subject,
    reason: event.reason,
    message: event.message,
    issues: event.issues,
    ...(event.jobId === undefined ? {} : { jobId: event.jobId }),
    rawPreview: event.rawPreview,
    sizeBytes: event.sizeBytes,
    ...(event.traceId === undefined ? {} : { traceId: event.traceId }),
  };
}
