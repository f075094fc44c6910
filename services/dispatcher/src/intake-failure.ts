import { isMessageTooLarge, isNatsOutage } from "@conveyor/service-kit";
import { InvalidArgumentError } from "@nats-io/transport-node";

/**
 * Whether a failure to handle an intake message would happen again on every delivery: the client
 * refused the publish (a message over the server's `max_payload`, a bad subject) or the stream
 * refused the message's size. Everything else (timeouts, no responders, a stream unavailable or
 * missing) is taken as transient and retried.
 */
export function isDeterministicFailure(err: unknown): boolean {
  if (err instanceof InvalidArgumentError) return true;
  return isMessageTooLarge(err);
}

/**
 * Whether a message whose handling failed is given up on (recorded as `unprocessable`, or let go)
 * instead of retried: at once when the failure would repeat on every delivery; never while NATS is
 * unavailable, however long that lasts, as an outage says nothing of the message (a submission
 * the gateway accepted is queued once `WORK` is back, not turned into a refusal); and on
 * `lastAttempt` for anything else, a failure of the dispatcher's own that would otherwise hold a
 * mailbox slot for good.
 */
export function givesUpOn(err: unknown, lastAttempt: boolean): boolean {
  if (isDeterministicFailure(err)) return true;
  return lastAttempt && !isNatsOutage(err);
}

/** A failure's message, for a rejection record or a log line. */
export function failureMessage(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}

/**
 * The job's work item is stored but its `queued` event is not (`EVENTS` unavailable), or, for a
 * scheduled job, whether a cancel came before its hold could not be read: the job is queued and
 * will run, so the submission must not be recorded as rejected. Retrying publishes both again (the
 * work item collapses under its `Nats-Msg-Id`) and reads the cancel again. `cause` is the
 * failure.
 */
export class QueuedEventMissing extends Error {
  override readonly name = "QueuedEventMissing";
  readonly jobId: string;

  /** `what` is the step that failed after the work item was stored. */
  constructor(jobId: string, cause: unknown, what = "its queued event was not stored") {
    super(`job ${jobId} is queued, but ${what}: ${failureMessage(cause)}`, { cause });
    this.jobId = jobId;
  }
}
