import { JobStatus } from "@conveyor/contracts";
import { findJob, mergeJobDocuments } from "@conveyor/read-model";
import type { JobDocument } from "@conveyor/read-model";

import type { GatewayDeps } from "../deps.ts";
import { errorMessage, unavailable } from "../errors.ts";
import { jobFromEvents } from "./job-from-events.ts";
import type { NatsLink } from "./nats-link.ts";
import { queryReadModel } from "./query-read-model.ts";

/**
 * One job as the gateway shows it: its read-model document, or for a job the read model does not
 * show yet (the projector holds a new job back for up to `PROJECTOR_NEW_JOB_DEFER_MS`, and may be
 * behind) the document folded from its events in `EVENTS`. A document `foldWithEvents` picks is
 * folded with the job's newest events too, while NATS is up: by default a dead job's, as a
 * replay's new run is there before the read model shows it.
 *
 * @throws {ApiError} 503 when NATS fails to answer that look-up: whether the job exists cannot be
 *   told then, and a 404 would say it does not (a client would not retry a cancel, say).
 */
export async function readJob(
  deps: GatewayDeps,
  id: string,
  readTimeoutMs: number,
  link: Pick<NatsLink, "up">,
  foldWithEvents: (doc: JobDocument) => boolean = isDead,
): Promise<JobDocument | undefined> {
  const doc =
    (await queryReadModel((deadline) => findJob(deps.db, id, deadline), readTimeoutMs)) ??
    undefined;
  // Not looked for while NATS is down: the request would only wait out its timeout.
  if (doc && (!foldWithEvents(doc) || !link.up)) return doc;
  if (!link.up) {
    throw unavailable("NATS is not connected; whether the job exists cannot be told yet");
  }
  let newest: JobDocument | undefined;
  try {
    newest = await jobFromEvents(deps.nc, id, deps.options.publishTimeoutMs);
  } catch (err) {
    if (doc) return doc;
    throw unavailable(`the job's events could not be read from NATS: ${errorMessage(err)}`, err);
  }
  if (doc === undefined || newest === undefined) return doc ?? newest;
  return mergeJobDocuments(doc, newest);
}

/** A dead job may have been replayed: its new run is in `EVENTS` before the read model has it. */
function isDead(doc: JobDocument): boolean {
  return doc.status === JobStatus.Dead;
}
