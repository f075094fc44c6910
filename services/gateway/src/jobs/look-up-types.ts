import { JobTypeName } from "@conveyor/contracts";
import { JobTypeLookupError, lookUpUnseenTypes } from "@conveyor/job-registry";
import type { JobTypeSource } from "@conveyor/job-registry";

import { DeadlineError, unavailable } from "../errors.ts";
import { withTimeout } from "../http/with-timeout.ts";
import type { NatsOut } from "./nats-out.ts";

/**
 * Reads from the job-types bucket the types a request names that this gateway's registry has not
 * seen (one registered a moment ago), so that checking does not refuse them as unknown. When they
 * cannot be read (NATS down, the read failing or taking longer than `timeoutMs`), whether they
 * exist is unknown: a 503 to retry, never a 422, which clients take for good.
 */
export async function lookUpTypes(
  registry: JobTypeSource,
  out: NatsOut,
  types: Iterable<unknown>,
  timeoutMs: number,
): Promise<void> {
  // Known types, nearly every request: no look-up, no timer.
  const named = [...types];
  if (named.every((type) => typeof type !== "string" || registry.get(type) !== undefined)) return;
  const source: JobTypeSource = {
    get: (type) => registry.get(type),
    lookup: (type) =>
      // While NATS is down the read would wait out its timeout: fail it at once.
      out.link.up || !JobTypeName.safeParse(type).success
        ? registry.lookup(type)
        : Promise.reject(
            new JobTypeLookupError(type, { cause: new Error("NATS is not connected") }),
          ),
  };
  try {
    await withTimeout(lookUpUnseenTypes(source, named), timeoutMs, "NATS");
  } catch (err) {
    if (err instanceof JobTypeLookupError || err instanceof DeadlineError) {
      throw unavailable(
        `the job type could not be looked up; nothing was submitted: ${err.message}`,
        err,
      );
    }
    throw err;
  }
}
