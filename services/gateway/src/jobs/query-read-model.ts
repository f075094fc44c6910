import { InvalidQueryError } from "@conveyor/read-model";
import { MongoNetworkError, MongoServerSelectionError } from "mongodb";

import { DeadlineError, invalidParameters, unavailable } from "../errors.ts";
import { withTimeout } from "../http/with-timeout.ts";

/** Default deadline of one read-model query, in milliseconds. */
export const defaultReadTimeoutMs = 5000;

/**
 * Runs a read-model query within `timeoutMs`. A query refused for its options (a bad cursor) is a
 * 400 naming the parameter; an unreachable or slow MongoDB is a 503.
 */
export async function queryReadModel<T>(query: () => Promise<T>, timeoutMs: number): Promise<T> {
  try {
    return await withTimeout(query(), timeoutMs, "MongoDB");
  } catch (err) {
    if (err instanceof InvalidQueryError) {
      throw invalidParameters([{ path: err.field, message: err.message }]);
    }
    if (
      err instanceof DeadlineError ||
      err instanceof MongoServerSelectionError ||
      err instanceof MongoNetworkError
    ) {
      throw unavailable(`the read model is unavailable: ${err.message}`, err);
    }
    throw err;
  }
}
