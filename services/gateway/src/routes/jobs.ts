import { listJobs } from "@conveyor/read-model";
import type { JobDocument } from "@conveyor/read-model";
import Router from "@koa/router";
import type { Context } from "koa";

import type { GatewayDeps } from "../deps.ts";
import type { NatsLink } from "../jobs/nats-link.ts";
import { notFound, unavailable } from "../errors.ts";
import { EventStream } from "../http/event-stream.ts";
import { parseParams } from "../http/parse-params.ts";
import { toJobView } from "../jobs/job-view.ts";
import { defaultReadTimeoutMs, queryReadModel } from "../jobs/query-read-model.ts";
import { heldJob } from "../jobs/held-job.ts";
import { readJob } from "../jobs/read-job.ts";
import { JobWaits, defaultMaxJobWaits } from "../jobs/job-waits.ts";
import { defaultJobStreamMaxMs, streamJobEvents } from "../jobs/stream-job-events.ts";
import { waitForJob, waitUntilKnown } from "../jobs/wait-for-job.ts";
import { GetJobQuery, JobEventsQuery, JobIdParams, ListJobsQuery } from "../schemas/jobs.ts";

/**
 * `GET /v1/jobs` (filtered, cursor-paginated) and `GET /v1/jobs/:id`, from the read model, and
 * `GET /v1/jobs/:id/events`, a job followed live.
 */
export function jobsRouter(deps: GatewayDeps, link: NatsLink): Router {
  const router = new Router();
  const timeoutMs = deps.options.readTimeoutMs ?? defaultReadTimeoutMs;
  const waits = new JobWaits(deps.options.maxJobWaits ?? defaultMaxJobWaits, deps.stopping);

  router.get("/v1/jobs", async (ctx) => {
    const query = parseParams(ListJobsQuery, ctx.query);
    const page = await queryReadModel(
      (deadline) => listJobs(deps.db, { ...query, ...deadline }),
      timeoutMs,
    );
    ctx.body = { items: page.items.map(toJobView), nextCursor: page.nextCursor ?? null };
  });

  const readOne = async (id: string, withNewestEvents = false) =>
    (await readJob(deps, id, timeoutMs, link, withNewestEvents ? () => true : undefined)) ??
    (await heldJob(deps.jsm, id, deps.options.publishTimeoutMs));

  router.get("/v1/jobs/:id", async (ctx) => {
    const { id } = parseParams(JobIdParams, ctx.params);
    const { waitMs } = parseParams(GetJobQuery, ctx.query);
    const read = (withNewestEvents = false) => readOne(id, withNewestEvents);
    let doc: JobDocument | undefined;
    // Without NATS no event can be heard, and past the cap a wait would cost the others: the job
    // is answered as it is.
    if (waitMs === undefined || waitMs === 0 || !link.up || waits.full) {
      doc = await read();
    } else {
      // Its own latency series: a wait is no slow read.
      ctx.state.metricsRoute = "/v1/jobs/:id?waitMs";
      const stop = AbortSignal.any([requestClosed(ctx), waits.stopping]);
      doc = await waits.hold(() => waitForJob(deps.nc, id, waitMs, () => read(true), stop));
    }
    if (!doc) throw noSuchJob(id);
    ctx.body = toJobView(doc);
  });

  router.get("/v1/jobs/:id/events", async (ctx) => {
    const { id } = parseParams(JobIdParams, ctx.params);
    parseParams(JobEventsQuery, ctx.query);
    if (waits.stopping.aborted) throw unavailable("the gateway is stopping; try again");
    // Without NATS no change could be heard: the client is to come back rather than hear nothing.
    if (!link.up) throw unavailable("NATS is not connected; the job cannot be followed yet");
    if (waits.full) {
      throw unavailable("the gateway follows as many jobs as it may; try again shortly");
    }
    // Counted from here, so that requests arriving together cannot all pass the check above.
    const release = waits.reserve();
    let streaming = false;
    try {
      const read = () => readOne(id, true);
      // A job accepted a moment before is known once the dispatcher has queued it.
      const first =
        (await read()) ??
        (await waitUntilKnown(
          deps.nc,
          id,
          read,
          AbortSignal.any([requestClosed(ctx), waits.stopping]),
        ));
      if (!first) {
        if (waits.stopping.aborted) throw unavailable("the gateway is stopping; try again");
        throw noSuchJob(id);
      }
      const stream = new EventStream(ctx);
      const stop = AbortSignal.any([stream.closed, waits.stopping]);
      const timeoutMs = deps.options.jobStreamMaxMs ?? defaultJobStreamMaxMs;
      // The response goes on after this handler returns; the stream ends itself in every case.
      streaming = true;
      void streamJobEvents(stream, deps.nc, id, first, read, { timeoutMs, signal: stop })
        .catch((err: unknown) => {
          deps.logger.warn({ err, jobId: id }, "following a job for its event stream failed");
        })
        .finally(release);
    } finally {
      if (!streaming) release();
    }
  });
  return router;
}

/** 404 for a job not known (see docs/rest-api.md): not queued yet, refused, or never sent. */
function noSuchJob(id: string) {
  // Accepted jobs reach EVENTS once the dispatcher has queued them. A NATS publisher has no other
  // answer telling it that its submission was refused.
  return notFound(
    `no job with id ${id} (a job accepted moments ago is not shown yet; a submission the ` +
      `dispatcher refused is listed at /v1/rejections?jobId=${id})`,
  );
}

/** Aborts when the client goes away before its answer, so that no wait outlasts its request. */
function requestClosed(ctx: Context): AbortSignal {
  const closed = new AbortController();
  // The response closes before it is written only when the connection went away.
  ctx.res.once("close", () => {
    if (!ctx.res.writableFinished) closed.abort();
  });
  return closed.signal;
}
