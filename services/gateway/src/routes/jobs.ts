import { findJob, listJobs } from "@conveyor/read-model";
import type { JobDocument } from "@conveyor/read-model";
import Router from "@koa/router";

import type { GatewayDeps } from "../deps.ts";
import { notFound } from "../errors.ts";
import { parseParams } from "../http/parse-params.ts";
import { jobFromEvents } from "../jobs/job-from-events.ts";
import { toJobView } from "../jobs/job-view.ts";
import { defaultReadTimeoutMs, queryReadModel } from "../jobs/query-read-model.ts";
import { JobIdParams, ListJobsQuery } from "../schemas/jobs.ts";

/** `GET /v1/jobs` (filtered, cursor-paginated) and `GET /v1/jobs/:id`, from the read model. */
export function jobsRouter(deps: GatewayDeps): Router {
  const router = new Router();
  const timeoutMs = deps.options.readTimeoutMs ?? defaultReadTimeoutMs;

  router.get("/v1/jobs", async (ctx) => {
    const query = parseParams(ListJobsQuery, ctx.query);
    const page = await queryReadModel(() => listJobs(deps.db, query), timeoutMs);
    ctx.body = { items: page.items.map(toJobView), nextCursor: page.nextCursor ?? null };
  });

  router.get("/v1/jobs/:id", async (ctx) => {
    const { id } = parseParams(JobIdParams, ctx.params);
    const doc =
      (await queryReadModel(() => findJob(deps.db, id), timeoutMs)) ??
      (await notYetProjected(deps, id));
    if (!doc) {
      // Accepted jobs reach EVENTS once the dispatcher has queued them (see docs/rest-api.md).
      throw notFound(`no job with id ${id} (a job accepted moments ago is not shown yet)`);
    }
    ctx.body = toJobView(doc);
  });
  return router;
}

/**
 * A job the read model does not show yet, read from its events in `EVENTS` (the projector holds an
 * unfinished job back for up to `PROJECTOR_DEFER_MS`, and may be behind). When NATS fails to answer
 * the read stays what the read model said: not found.
 */
async function notYetProjected(deps: GatewayDeps, id: string): Promise<JobDocument | undefined> {
  try {
    return await jobFromEvents(deps.jsm, id, deps.options.publishTimeoutMs);
  } catch (err) {
    deps.logger.warn({ err, jobId: id }, "could not look up a job's events in EVENTS");
    return undefined;
  }
}
