import { InvalidQueryError } from "@conveyor/read-model";
import type { ReadDeadline } from "@conveyor/read-model";

import { DeadlineError, invalidParameters, unavailable } from "../errors.ts";
import type { ApiError } from "../errors.ts";
import { withTimeout } from "../http/with-timeout.ts";
import { isReadModelUnavailable } from "./read-model-unavailable.ts";

/** Default deadline of one read-model query, in milliseconds. */
export const defaultReadTimeoutMs = 5000;

/**
 * Runs a read-model query within `timeoutMs`, which it is given as its server-side deadline too
 * (`maxTimeMS`), so that a read answered 503 at its deadline stops on the server instead of
 * running on: clients retrying a slow read would otherwise pile queries onto a slow read model.
 * A query refused for its options (a bad cursor) is a 400 naming the parameter; an unreachable,
 * slow, shutting-down or overloaded MongoDB is a 503.
 */
export async function queryReadModel<T>(
  query: (deadline: ReadDeadline) => Promise<T>,
  timeoutMs: number,
): Promise<T> {
  try {
    return await withTimeout(query({ maxTimeMS: timeoutMs }), timeoutMs, "MongoDB");
  } catch (err) {
    if (err instanceof InvalidQueryError) throw parameterRefused(err);
    if (err instanceof DeadlineError) {
      throw unavailable(`the read model is unavailable: ${err.message}`, err);
    }
    if (isReadModelUnavailable(err)) {
      // The kind of failure only: a driver's message names the server's address and connection,
      // which a client has no use for (the gateway logs it, with the cause).
      throw unavailable(`the read model is unavailable (${failureKind(err)}); retry later`, err);
    }
    throw err;
  }
}

/** The error's class, and the server's name for its code when it has one (`MongoServerError InterruptedAtShutdown`). */
function failureKind(err: Error): string {
  const { codeName } = err as { codeName?: unknown };
  return typeof codeName === "string" && codeName !== "" ? `${err.name} ${codeName}` : err.name;
}

/** A list's option refused (a cursor it did not make): 400 naming the parameter. */
export function parameterRefused(err: InvalidQueryError): ApiError {
  return invalidParameters([{ path: err.field, message: err.message }]);
}
