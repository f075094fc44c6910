import { findJob } from "@conveyor/read-model";
import type { JobDocument } from "@conveyor/read-model";

import type { GatewayDeps } from "../deps.ts";
import { jobFromEvents } from "./job-from-events.ts";
import { queryReadModel } from "./query-read-model.ts";

/**
 * One job as the gateway shows it: its read-model document, or for a job the read model does not
 * show yet (the projector holds a new job back for up to `PROJECTOR_NEW_JOB_DEFER_MS`, and may be
 * behind) the document folded from its events in `EVENTS`. When NATS fails to answer that look-up
 * the read stays what the read model said: not found.
 */
export async function readJob(
  deps: GatewayDeps,
  id: string,
  readTimeoutMs: number,
): Promise<JobDocument | undefined> {
  const doc = await queryReadModel(() => findJob(deps.db, id), readTimeoutMs);
  if (doc) return doc;
  try {
    return await jobFromEvents(deps.jsm, id, deps.options.publishTimeoutMs);
  } catch (err) {
    deps.logger.warn({ err, jobId: id }, "could not look up a job's events in EVENTS");
    return undefined;
  }
}
