import { JetStreamApiError } from "@nats-io/jetstream";
import { InvalidArgumentError } from "@nats-io/transport-node";

/** JetStream's API error code for a message larger than the stream's `max_msg_size`. */
const messageTooLargeCode = 10054;

/**
 * Whether a failure to handle an intake message would happen again on every delivery: the client
 * refused the publish (a message over the server's `max_payload`, a bad subject) or the stream
 * refused the message's size. Everything else (timeouts, no responders, a stream unavailable or
 * missing) is taken as transient and retried.
 */
export function isDeterministicFailure(err: unknown): boolean {
  if (err instanceof InvalidArgumentError) return true;
  return err instanceof JetStreamApiError && err.code === messageTooLargeCode;
}

/** A failure's message, for a rejection record or a log line. */
export function failureMessage(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}
