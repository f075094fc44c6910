import { JetStreamApiCodes, JetStreamApiError } from "@nats-io/jetstream";
import {
  AuthorizationError,
  ClosedConnectionError,
  ConnectionError,
  DrainingConnectionError,
  NoRespondersError,
  PermissionViolationError,
  RequestError,
  TimeoutError,
  UserAuthenticationExpiredError,
} from "@nats-io/transport-node";

import { PublisherClosedError, RepliesRefusedError } from "./errors.ts";

/** Failures of reaching NATS at all, or of the client's rights there, whatever was sent. */
const unavailable = [
  TimeoutError,
  NoRespondersError,
  RequestError,
  ClosedConnectionError,
  DrainingConnectionError,
  ConnectionError,
  PermissionViolationError,
  AuthorizationError,
  UserAuthenticationExpiredError,
  PublisherClosedError,
  RepliesRefusedError,
];

/** Causes looked through before giving up: nats.js and Conveyor wrap a failure once or twice. */
const maxCauseDepth = 5;

/**
 * Whether a failure is NATS being unavailable, not the message or the code that handled it: no
 * answer in time, no stream for the subject (no responders to a publish, "stream not found" to a
 * read: provisioning puts it back), the connection closed or draining, the server refusing the
 * client's rights, or JetStream answering with a server-side status (5xx: temporarily
 * unavailable, a full stream that discards new messages, insufficient resources, a stream
 * offline). Such a failure ends when the server, the stream or the configuration is mended,
 * and says nothing of the message: what failed is worth retrying for as long as that takes. A 4xx
 * JetStream answer (the message too large, a bad schedule, a wrong expected sequence) is about
 * the request and is not an outage. Looks through `cause`s, as nats.js and Conveyor wrap failures.
 */
export function isNatsOutage(err: unknown): boolean {
  let current = err;
  for (let depth = 0; depth <= maxCauseDepth && current instanceof Error; depth++) {
    if (current instanceof JetStreamApiError) {
      return current.status >= 500 || current.code === JetStreamApiCodes.StreamNotFound;
    }
    // A request's failure is what it wraps, when it says (no responders, a JetStream answer).
    if (current instanceof RequestError && current.cause instanceof Error) {
      current = current.cause;
      continue;
    }
    if (unavailable.some((kind) => current instanceof kind)) return true;
    current = current.cause;
  }
  return false;
}
