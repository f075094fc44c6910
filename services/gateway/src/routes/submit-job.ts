import { newJobId } from "@conveyor/contracts";
import type { JobSubmission } from "@conveyor/contracts";
import { checkSubmission } from "@conveyor/job-registry";
import Router from "@koa/router";

import type { GatewayDeps } from "../deps.ts";
import { jsonBody } from "../http/json-body.ts";
import { inRequestSpan } from "../http/request-span.ts";
import { lookUpTypes } from "../jobs/look-up-types.ts";
import type { NatsOut } from "../jobs/nats-out.ts";
import { publishSubmission } from "../jobs/publish-submission.ts";
import { SubmissionBatcher } from "../jobs/submission-batcher.ts";
import { submissionRefused } from "../jobs/submission-refused.ts";
import {
  idempotencyHeaderOf,
  typeNamedBy,
  withIdempotencyHeader,
} from "../jobs/submission-input.ts";

/**
 * `POST /v1/jobs`: validates a submission against the envelope and its type's payload schema,
 * publishes it to the intake stream and answers once JetStream has stored it. Submissions without
 * an id or idempotency key that arrive together are stored together (see {@link SubmissionBatcher}).
 */
export function submitJobRouter(deps: GatewayDeps, out: NatsOut): Router {
  const router = new Router();
  const batcher = new SubmissionBatcher(deps, out);
  router.post("/v1/jobs", jsonBody(deps.options.maxBodyBytes), async (ctx) => {
    await inRequestSpan(deps, ctx, "POST", "/v1/jobs", async (trace) => {
      const header = idempotencyHeaderOf(ctx.req.headersDistinct["idempotency-key"]);
      const input = withIdempotencyHeader(ctx.request.body, header);
      await lookUpTypes(deps.registry, out, [typeNamedBy(input)], deps.options.publishTimeoutMs);
      const checked = checkSubmission(input, deps.registry, { source: "rest" });
      if (!checked.ok) throw submissionRefused(checked.reason, checked.message, checked.issues);
      const { submission } = checked;
      const gather =
        deps.options.gatherSubmissions !== false &&
        submission.id === undefined &&
        submission.idempotencyKey === undefined;
      // The gateway makes the id of a job sent without one; its envelope is stored with it.
      const job = { ...submission, id: submission.id ?? newJobId() };
      refuseOverLimit(job, deps.options.maxBodyBytes);
      const outcome = gather
        ? await batcher.submit(job, trace)
        : await publishSubmission(deps, out, job, trace);
      if (outcome.id !== undefined) ctx.set("Location", `/v1/jobs/${outcome.id}`);
      const { duplicate } = outcome;
      ctx.status = duplicate ? 200 : 202;
      ctx.body = {
        id: outcome.id,
        status: duplicate ? "duplicate" : "queued",
        duplicate,
        traceId: outcome.traceId,
      };
    });
  });
  return router;
}

/**
 * Refuses with 413 a job whose envelope, as stored and as the dispatcher measures it, is over the
 * limit: it holds the job's id and the defaults filled in, and its numbers written out in full
 * (`1e20` is 21 characters there), so a body under the limit can make one over it, which would be
 * answered 202 and then refused by the dispatcher.
 */
function refuseOverLimit(job: JobSubmission, maxBytes: number): void {
  const bytes = Buffer.byteLength(JSON.stringify(job));
  if (bytes <= maxBytes) return;
  const message = `the submission is ${bytes} bytes, over the limit of ${maxBytes}`;
  throw submissionRefused("too_large", message, [{ path: "(root)", message }]);
}
