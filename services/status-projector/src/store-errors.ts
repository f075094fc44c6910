import {
  MongoBulkWriteError,
  MongoError,
  MongoNetworkError,
  MongoNotConnectedError,
  MongoOperationTimeoutError,
  MongoRuntimeError,
  MongoServerClosedError,
  MongoServerError,
  MongoServerSelectionError,
  MongoTopologyClosedError,
} from "mongodb";

import { StoreConflictError, StoreTimeoutError } from "./errors.ts";

/**
 * Server error codes that refuse a document for what it is, so writing it again fails the same
 * way: BadValue (2, FerretDB's invalid keys), Overflow (15, nested too deep), DollarPrefixedFieldName
 * (52), InvalidDBRef (55), EmptyFieldName (56), DottedFieldName (57), DocumentValidationFailure
 * (121), BSONObjectTooLarge (10334), KeyTooLong (17280), and 17419 (document grown too large).
 */
const refusalCodes: ReadonlySet<unknown> = new Set([
  2, 15, 52, 55, 56, 57, 121, 10334, 17280, 17419,
]);

/** MongoDB's (and FerretDB's) code for a duplicate `_id`. */
export const duplicateKeyCode = 11000;

/** Labels with which the driver or the server mark an error worth retrying. */
const transientLabels = [
  "RetryableWriteError",
  "TransientTransactionError",
  "ResetPool",
  "PoolRequestedRetry",
  "RetryableError",
  "SystemOverloadedError",
] as const;

/**
 * Whether a failed read or write may succeed when tried again: the server was unreachable, busy or
 * stepping down, or did not answer in time, or documents kept changing while being written. A server error counts as transient unless its code is
 * a known refusal of the document (an unlabelled error such as MaxTimeMSExpired, or any FerretDB
 * error, may pass), so that no event is dropped for a passing failure. What the driver throws while
 * encoding a document (BSONError for a NUL in a key, MongoInvalidArgumentError or RangeError for a
 * document over the size limit) is permanent.
 */
export function isTransientStoreError(err: unknown): boolean {
  if (err instanceof StoreTimeoutError || err instanceof StoreConflictError) return true;
  if (err instanceof MongoError && transientLabels.some((label) => err.hasErrorLabel(label))) {
    return true;
  }
  if (err instanceof MongoServerError) return !isRefusal(err);
  return (
    err instanceof MongoNetworkError ||
    err instanceof MongoServerSelectionError ||
    err instanceof MongoNotConnectedError ||
    err instanceof MongoTopologyClosedError ||
    err instanceof MongoServerClosedError ||
    err instanceof MongoOperationTimeoutError ||
    err instanceof MongoRuntimeError
  );
}

/** Whether a server error code refuses a document for what it is (see {@link isTransientStoreError}). */
export function isRefusalCode(code: unknown): boolean {
  return refusalCodes.has(code);
}

/** The server refused the document(s): every write error (or the error itself) has a refusal code. */
function isRefusal(err: MongoServerError): boolean {
  if (err instanceof MongoBulkWriteError) {
    const writeErrors = ([] as { code?: unknown }[]).concat(err.writeErrors);
    if (writeErrors.length > 0) return writeErrors.every((w) => isRefusalCode(w.code));
  }
  return isRefusalCode(err.code);
}

/**
 * Whether a write failed because a document with its `_id` exists: an insert of a stored job, or a
 * revision-fenced upsert whose revision is no longer the stored one.
 */
export function isDuplicateKey(err: unknown): boolean {
  if (err instanceof MongoBulkWriteError) {
    const writeErrors = ([] as { code?: unknown }[]).concat(err.writeErrors);
    if (writeErrors.length > 0) return writeErrors.some((w) => w.code === duplicateKeyCode);
  }
  return err instanceof MongoServerError && err.code === duplicateKeyCode;
}
