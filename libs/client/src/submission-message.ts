import { Header, Subject, SubmissionSource, newJobId } from "@conveyor/contracts";
import type { JobSubmission } from "@conveyor/contracts";
import { outgoingHeaders } from "@conveyor/service-kit";
import type { MsgHdrs } from "@nats-io/transport-node";

/** A submission as published to `jobs.submit.<type>`, by the gateway and by {@link JobClient}. */
export interface SubmissionMessage {
  /** The job's id: the submission's, or a new UUIDv7. */
  id: string;
  subject: string;
  /** The envelope as JSON, with the id. */
  body: string;
  /** `Conveyor-Job-Id`, `Conveyor-Job-Type`, and `Conveyor-Source` for a REST submission. */
  headers: MsgHdrs;
  /** `Nats-Msg-Id`: the idempotency key, or the job id, so a repeat within the window is stored once. */
  msgID: string;
}

/**
 * Builds the message of a checked submission. The id is fixed here, before publishing, so that a
 * publish retried after a lost acknowledgement carries the same id and collapses into the first.
 */
export function submissionMessage(
  submission: JobSubmission,
  source: SubmissionSource,
): SubmissionMessage {
  const id = submission.id ?? newJobId();
  const headers = outgoingHeaders();
  headers.append(Header.JobId, id);
  headers.append(Header.JobType, submission.type);
  // The dispatcher takes a submission without the header for one published over NATS.
  if (source === SubmissionSource.Rest) headers.append(Header.Source, source);
  return {
    id,
    subject: Subject.submit(submission.type),
    body: JSON.stringify({ ...submission, id }),
    headers,
    msgID: submission.idempotencyKey ?? id,
  };
}
