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
 * Deepest nesting of arrays and objects accepted in a payload (a scalar is 0, `[1]` is 1). Deeper
 * JSON overflows the stack of recursive validators and stores, so it is refused at intake.
 */
export const maxPayloadDepth = 64;

/**
 * Deepest message body the projector accepts, in nested objects and arrays (the body itself is
 * level 1), counted as stored (`exceedsDepth`: an array directly in an array is stored wrapped in
 * an object, two levels). MongoDB stores documents nested at most 100 levels deep, and a message's
 * payload or result sits as deep in its read-model document as in the message; the schema
 * validator would also overflow the call stack on bodies nested some 1,500 levels deep. Deeper
 * bodies are refused before validation.
 */
export const maxMessageDepth = 90;

/**
 * Deepest nesting of a handler's result (as {@link maxPayloadDepth} counts): it is a field of its
 * event, one level below the body, so no deeper result could be projected. A worker refuses a
 * deeper one as an `InvalidResultError`.
 */
export const maxResultDepth = maxMessageDepth - 1;
