import { CommandVerb, JobStatus, isTerminal } from "@conveyor/contracts";
import type { CancelCommandInput } from "@conveyor/contracts";
import type { JobDocument } from "@conveyor/read-model";
import Router from "@koa/router";

import type { GatewayDeps } from "../deps.ts";
import { conflict, notFound } from "../errors.ts";
import { jsonBody } from "../http/json-body.ts";
import { inRequestSpan } from "../http/request-span.ts";
import { parseBody } from "../http/parse-body.ts";
import { parseParams } from "../http/parse-params.ts";
import type { NatsOut } from "../jobs/nats-out.ts";
import { publishCommand } from "../jobs/publish-command.ts";
import { heldJob } from "../jobs/held-job.ts";
import { defaultReadTimeoutMs } from "../jobs/query-read-model.ts";
import { readJob } from "../jobs/read-job.ts";
import { CancelRequest } from "../schemas/commands.ts";
import { JobIdParams } from "../schemas/jobs.ts";

/** The reason recorded when the request gives none. */
export const defaultCancelReason = "cancelled on request";

/**
 * `POST /v1/jobs/:id/cancel`: asks the dispatcher to cancel a job the gateway knows (see
 * {@link readJob}, and {@link heldJob} for a scheduled job held longer than `EVENTS` keeps events)
 * and that has not finished, and answers `202 cancelling` once the command is
 * stored. The job shows `cancelled` when the dispatcher (a queued job) or the worker running it
 * (a running job) acts.
 */
export function cancelJobRouter(deps: GatewayDeps, out: NatsOut): Router {
  const router = new Router();
  const timeoutMs = deps.options.readTimeoutMs ?? defaultReadTimeoutMs;
  router.post("/v1/jobs/:id/cancel", jsonBody(deps.options.maxBodyBytes), async (ctx) => {
    const { id } = parseParams(JobIdParams, ctx.params);
    const request = parseBody(CancelRequest, ctx.request.body);
    await inRequestSpan(deps, ctx, "POST", "/v1/jobs/:id/cancel", async (trace) => {
      const doc =
        (await currentJob(deps, id, timeoutMs, out.link)) ??
        (await heldJob(deps.jsm, id, deps.options.publishTimeoutMs));
      if (!doc) throw notFound(`no job with id ${id}`);
      if (isTerminal(doc.status)) {
        throw conflict(`job ${id} is already ${doc.status}; only unfinished jobs can be cancelled`);
      }
      const body = cancelCommandFor(doc, request.reason ?? defaultCancelReason, new Date());
      await publishCommand(
        deps,
        out,
        { verb: CommandVerb.Cancel, jobId: id, type: doc.type, run: doc.run, body },
        trace,
      );
      ctx.status = 202;
      ctx.body = { id, status: "cancelling" };
    });
  });
  return router;
}

/**
 * The command for a job as the read model shows it. A failed job waits for its next attempt with
 * no handler running, so the cancel is recorded at its attempt and it shows `cancelled` at once; a
 * queued or running job gets attempt 0, which a running attempt outranks until its worker stops it.
 */
export function cancelCommandFor(doc: JobDocument, reason: string, now: Date): CancelCommandInput {
  return {
    jobId: doc._id,
    type: doc.type,
    run: doc.run,
    attempt: doc.status === JobStatus.Failed ? doc.attempt : 0,
    reason,
    requestedAt: now.toISOString(),
  };
}

/**
 * The job as its newest events have it. The projector holds an unfinished job's events back for
 * a moment (and may be behind), so the read model can show an attempt running that has failed
 * since: cancelled at attempt 0, that job would show `failed` until its retry, minutes later.
 * So a document that is not final (or dead, as {@link readJob} folds it: it may have been
 * replayed) is folded with the newest events of its job in `EVENTS`; when those cannot be read,
 * the document decides (the cancel's publish would fail the same way).
 */
function currentJob(
  deps: GatewayDeps,
  id: string,
  timeoutMs: number,
  link: NatsOut["link"],
): Promise<JobDocument | undefined> {
  return readJob(
    deps,
    id,
    timeoutMs,
    link,
    (doc) => !isTerminal(doc.status) || doc.status === JobStatus.Dead,
  );
}
