import type { GatewayDeps } from "../deps.ts";
import { errorMessage, unavailable } from "../errors.ts";
import type { ApiError } from "../errors.ts";
import { withTimeout } from "../http/with-timeout.ts";

/**
 * Runs JetStream API requests within the gateway's publish deadline. A failure, or no answer in
 * time, is a 503 `unavailable` saying `what` and why (`the schedules are unavailable: ...`),
 * unless `answer` makes it an answer of its own (a 404 for a consumer that does not exist).
 */
export async function withinJetStreamDeadline<T>(
  deps: Pick<GatewayDeps, "options">,
  what: string,
  request: () => Promise<T>,
  answer: (err: unknown) => ApiError | undefined = () => undefined,
): Promise<T> {
  try {
    return await withTimeout(request(), deps.options.publishTimeoutMs, "JetStream");
  } catch (err) {
    throw answer(err) ?? unavailable(`${what}: ${errorMessage(err)}`, err);
  }
}
