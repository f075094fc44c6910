import { JetStreamApiCodes, JetStreamApiError, JetStreamError } from "@nats-io/jetstream";
import {
  AuthorizationError,
  ClosedConnectionError,
  ConnectionError,
  DrainingConnectionError,
  NoRespondersError,
  RequestError,
  TimeoutError,
  UserAuthenticationExpiredError,
} from "@nats-io/transport-node";

import { PublisherClosedError, RepliesRefusedError } from "./errors.ts";

/**
 * Failures of reaching NATS at all, whatever was sent. A `PermissionViolationError` is not one:
 * permissions are per subject, so a denial is an answer about the message's subject.
 */
const unavailable = [
  TimeoutError,
  NoRespondersError,
  RequestError,
  ClosedConnectionError,
  DrainingConnectionError,
  ConnectionError,
  AuthorizationError,
  UserAuthenticationExpiredError,
  PublisherClosedError,
  RepliesRefusedError,
];

/** JetStream's "duplicate message id is in process": a clustered stream still storing the first. */
const duplicateInProcessCode = 10158;
/** HTTP-like status of a JetStream answer: too many requests (a stream's inbound queue is full). */
const tooManyRequests = 429;

/** Causes looked through before giving up: nats.js and Conveyor wrap a failure once or twice. */
const maxCauseDepth = 5;

/**
 * Whether a failure is NATS being unavailable, not the message or the code that handled it: no
 * answer in time, no stream for the subject (no responders to a publish, "stream not found" to a
 * read: provisioning puts it back), the connection closed or draining, or JetStream answering that
 * it cannot take the request now (a 5xx status: temporarily unavailable, a full stream that
 * discards new messages, insufficient resources, a stream offline; 429, its inbound queue full;
 * a duplicate still being stored). Such a failure ends when the server, the stream or the
 * configuration is mended, and says nothing of the message: what failed is worth retrying for as
 * long as that takes. Any other JetStream answer (the message too large, a bad schedule, a sealed
 * stream) and a permission denied for the subject are about the request, not an outage. Looks
 * through `cause`s, as nats.js and Conveyor wrap failures.
 */
export function isNatsOutage(err: unknown): boolean {
  let current = err;
  for (let depth = 0; depth <= maxCauseDepth && current instanceof Error; depth++) {
    if (current instanceof JetStreamApiError) {
      return (
        isBusyStatus(current.status) ||
        current.code === JetStreamApiCodes.StreamNotFound ||
        current.code === duplicateInProcessCode
      );
    }
    // A status answer to a direct get or a pull (nats.js's JetStreamStatusError, not exported).
    if (current instanceof JetStreamError && "code" in current) {
      return typeof current.code === "number" && isBusyStatus(current.code);
    }
    // A request's failure is what it wraps, when it says (no responders, a JetStream answer).
    if (current instanceof RequestError && current.cause instanceof Error) {
      current = current.cause;
      continue;
    }
    if (unavailable.some((kind) => current instanceof kind)) return true;
    // JetStream off on the server: nats.js's JetStreamNotEnabled, whose class it does not export.
    if (current.name === "JetStreamNotEnabled") return true;
    current = current.cause;
  }
  return false;
}

function isBusyStatus(status: number): boolean {
  return status >= 500 || status === tooManyRequests;
}
