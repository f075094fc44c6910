import type { NatsConnection } from "@nats-io/transport-node";

import { followJobEvents, jobEventOf, newestStoredEvents } from "./follow-job-events.ts";
import { JobStatusFold } from "./job-outcome.ts";
import type { JobOutcome } from "./job-outcome.ts";

/** How often a wait reads the job's stored events again besides those it hears. */
const rereadMs = 5000;

/**
 * Resolves with the outcome of the job's newest run once it has one, or undefined when `timeoutMs`
 * passes or `signal` aborts first: follows the job's events ({@link followJobEvents}), reading the
 * newest stored event of each kind from `EVENTS` with one direct get.
 *
 * @throws what reading the stored events threw, when it failed last and nothing was heard; why the
 *   subscription to the job's events ended (a permission refused), when no outcome came.
 */
export async function waitForOutcome(
  nc: NatsConnection,
  jobId: string,
  options: { timeoutMs: number; readTimeoutMs: number; signal: AbortSignal | undefined },
): Promise<JobOutcome | undefined> {
  const fold = new JobStatusFold();
  const end = await followJobEvents(
    nc,
    jobId,
    {
      async read() {
        for (const event of await newestStoredEvents(nc, jobId, options.readTimeoutMs))
          fold.add(event);
      },
      heard: (msg) => {
        const event = jobEventOf(jobId, msg.subject, msg.data);
        if (event !== undefined) fold.add(event);
      },
      finished: () => fold.outcome !== undefined,
    },
    { ...options, rereadMs },
  );
  const outcome = fold.outcome;
  if (outcome !== undefined) return outcome;
  // Not allowed to hear the job's events: waiting could only run out.
  if (end.subscriptionError !== undefined) throw end.subscriptionError;
  if (!fold.known && end.lastReadError !== undefined) throw end.lastReadError;
  return undefined;
}
