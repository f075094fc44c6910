import { ConfigError } from "./errors.ts";

/**
 * What a job's largest record adds to its submission, in bytes, with room to spare: the work item
 * adds its fields and headers (about 300), and the dead letter adds to the work item its error,
 * reason, source and times and the work message's headers (about 700 more).
 */
export const recordHeadroomBytes = 4096;

/**
 * Refuses a `MAX_SUBMISSION_BYTES` that leaves a job's records no room under the server's
 * `max_payload`: a job whose work item fits but whose dead letter does not could never be
 * dead-lettered, and would be tried again for ever without leaving `WORK`.
 * @throws {ConfigError} naming `MAX_SUBMISSION_BYTES`.
 */
export function checkSubmissionLimit(
  maxSubmissionBytes: number,
  maxPayload: number | undefined,
): void {
  if (maxPayload === undefined || maxSubmissionBytes + recordHeadroomBytes <= maxPayload) return;
  throw new ConfigError(
    `MAX_SUBMISSION_BYTES (${maxSubmissionBytes}) leaves a job's records no room under the ` +
      `NATS server's max_payload (${maxPayload}): at most ${maxPayload - recordHeadroomBytes}`,
    ["MAX_SUBMISSION_BYTES"],
  );
}
