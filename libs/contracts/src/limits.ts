/** Largest submission (the whole JSON envelope) accepted over REST or NATS, in bytes. */
export const defaultMaxSubmissionBytes = 256 * 1024;

/** Longest a rejected message's raw text is kept in its rejection record, in characters. */
export const rejectionRawPreviewChars = 2048;
