/** Largest submission (the whole JSON envelope) accepted over REST or NATS, in bytes. */
export const defaultMaxSubmissionBytes = 256 * 1024;

/**
 * Most jobs one bulk submission (`jobs.bulk.<type>`) carries. Each job is still bounded by the
 * submission limit, and the whole message by the NATS server's `max_payload` (1 MiB by default).
 */
export const maxBulkJobs = 1000;

/** Longest a rejected message's raw text is kept in its rejection record, in characters. */
export const rejectionRawPreviewChars = 2048;

/**
 * Longest a job id a rejected message claimed is kept in its rejection record, in characters: a
 * refused message's `id` need not be a valid job id, and is recorded as it was, up to this length.
 */
export const rejectionJobIdChars = 256;

/**
 * Deepest nesting of arrays and objects accepted in a payload, and in a handler's result (a scalar
 * is 0, `[1]` is 1). Deeper JSON overflows the stack of recursive validators and stores, so a
 * payload is refused at intake and a result by the worker (an `InvalidResultError`).
 */
export const maxPayloadDepth = 64;
