import {
  MongoClientClosedError,
  MongoError,
  MongoNetworkError,
  MongoNotConnectedError,
  MongoOperationTimeoutError,
  MongoServerClosedError,
  MongoServerError,
  MongoServerSelectionError,
  MongoStalePrimaryError,
  MongoTopologyClosedError,
} from "mongodb";

/** Driver errors of a server that cannot be reached or answer now. */
const unreachable = [
  MongoNetworkError,
  MongoServerSelectionError,
  MongoTopologyClosedError,
  MongoClientClosedError,
  MongoNotConnectedError,
  MongoServerClosedError,
  MongoOperationTimeoutError,
  MongoStalePrimaryError,
];

/** The pool's errors, whose classes the driver does not export. */
const poolErrors = new Set([
  "MongoPoolClosedError",
  "MongoPoolClearedError",
  "MongoWaitQueueTimeoutError",
]);

/**
 * Server codes of a state that passes: shutting down, stepping down, not primary, interrupted by
 * a replica-set change, a network failure between servers, a time limit exceeded.
 */
const transientCodes = new Set([
  6, // HostUnreachable
  7, // HostNotFound
  50, // MaxTimeMSExpired
  89, // NetworkTimeout
  91, // ShutdownInProgress
  189, // PrimarySteppedDown
  262, // ExceededTimeLimit
  9001, // SocketException
  10107, // NotWritablePrimary
  11600, // InterruptedAtShutdown
  11602, // InterruptedDueToReplStateChange
  13435, // NotPrimaryNoSecondaryOk
  13436, // NotPrimaryOrSecondary
]);

/** Labels the server or driver put on errors worth trying again later. */
const transientLabels = ["RetryableError", "SystemOverloadedError", "ResetPool"];

/**
 * Whether a read-model query failed because MongoDB is unavailable for now (a client should retry
 * later: 503), rather than for a reason that would repeat (a bug: 500).
 */
export function isReadModelUnavailable(err: unknown): err is Error {
  if (!(err instanceof Error)) return false;
  if (unreachable.some((type) => err instanceof type) || poolErrors.has(err.name)) return true;
  if (!(err instanceof MongoError)) return false;
  if (transientLabels.some((label) => err.hasErrorLabel(label))) return true;
  return (
    err instanceof MongoServerError && typeof err.code === "number" && transientCodes.has(err.code)
  );
}
