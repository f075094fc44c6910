import { findJob } from "@conveyor/read-model";
import type { JobDocument } from "@conveyor/read-model";

import type { GatewayDeps } from "../deps.ts";
import { errorMessage, unavailable } from "../errors.ts";
import { jobFromEvents } from "./job-from-events.ts";
import { queryReadModel } from "./query-read-model.ts";

/**
 * One job as the gateway shows it: its read-model document, or for a job the read model does not
 * show yet (the projector holds a new job back for up to `PROJECTOR_NEW_JOB_DEFER_MS`, and may be
 * behind) the document folded from its events in `EVENTS`.
 *
 * @throws {ApiError} 503 when NATS fails to answer that look-up: whether the job exists cannot be
 *   told then, and a 404 would say it does not (a client would not retry a cancel, say).
 */
export async function readJob(
  deps: GatewayDeps,
  id: string,
  readTimeoutMs: number,
): Promise<JobDocument | undefined> {
  const doc = await queryReadModel((deadline) => findJob(deps.db, id, deadline), readTimeoutMs);
  if (doc) return doc;
  try {
    return await jobFromEvents(deps.jsm, id, deps.options.publishTimeoutMs);
  } catch (err) {
    throw unavailable(`the job's events could not be read from NATS: ${errorMessage(err)}`, err);
  }
}
