import { JetStreamApiError } from "@nats-io/jetstream";

/** JetStream's API error code for a message larger than the stream's `max_msg_size`. */
const messageTooLargeCode = 10054;

/**
 * Whether a publish failed because the stream refused the message for its size: nothing of it was
 * stored, and sending it again as it is gets the same answer.
 */
export function isMessageTooLarge(err: unknown): err is JetStreamApiError {
  return err instanceof JetStreamApiError && err.code === messageTooLargeCode;
}
