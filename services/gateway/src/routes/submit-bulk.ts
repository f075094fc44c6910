import { checkBulkJob } from "@conveyor/client";
import type { BulkJob } from "@conveyor/client";
import { SubmissionSource } from "@conveyor/contracts";
import type { ValidationIssue } from "@conveyor/contracts";
import {
  checkBulkEnvelope,
  checkSubmission,
  refusalInBulk,
  repeatedIds,
} from "@conveyor/job-registry";
import { isMessageTooLarge } from "@conveyor/service-kit";
import Router from "@koa/router";

import type { GatewayDeps } from "../deps.ts";
import { ApiError, errorMessage, ErrorCode, natsNotConnected } from "../errors.ts";
import { jsonBody } from "../http/json-body.ts";
import { inRequestSpan } from "../http/request-span.ts";
import { lookUpTypes } from "../jobs/look-up-types.ts";
import type { NatsOut } from "../jobs/nats-out.ts";
import { storeBulk } from "../jobs/store-bulk.ts";
import { submissionRefused } from "../jobs/submission-refused.ts";
import { typesNamedBy } from "../jobs/submission-input.ts";

/** Most issues one refusal of a bulk lists; the message counts the refused jobs. */
const maxIssues = 100;

interface Refused {
  reason: string;
  message: string;
  issues: ValidationIssue[];
}

/**
 * `POST /v1/jobs/bulk`: up to 1,000 jobs in one request, as bulk submissions on
 * `jobs.bulk.<type>` (one stored message per type and `max_payload`). Every job is checked first,
 * as `POST /v1/jobs` checks one; when any is refused, nothing is submitted and the answer names
 * each refused job by its place (`jobs[3].payload.ms`). Answers 202 once JetStream stored every
 * job, with their ids in order; when some were not stored, 413 if each of those is over the
 * `JOBS` stream's `max_msg_size` and 503 otherwise, listing every job's id and whether it is
 * stored.
 */
export function submitBulkRouter(deps: GatewayDeps, out: NatsOut): Router {
  const router = new Router();
  router.post("/v1/jobs/bulk", jsonBody(deps.options.maxBulkBodyBytes), async (ctx) => {
    await inRequestSpan(deps, ctx, "POST", "/v1/jobs/bulk", async (trace) => {
      if (ctx.req.headersDistinct["idempotency-key"] !== undefined) {
        throw idempotencyHeaderRefused();
      }
      const types = typesNamedBy(ctx.request.body);
      await lookUpTypes(deps.registry, out, types, deps.options.publishTimeoutMs);
      const jobs = checkedJobs(deps, ctx.request.body);
      if (!out.link.up) throw natsNotConnected("no job was submitted");
      const outcomes = await storeBulk(deps, out, jobs, trace);
      const outcomeOf = new Map(outcomes.map((outcome) => [outcome.index, outcome]));
      const failures = outcomes.flatMap((outcome) => (outcome.stored ? [] : [outcome.error]));
      if (failures.length > 0) {
        // Some of the bulk's jobs may be stored (they will run): say which, with the ids, so that
        // the rest can be sent again under the same ids and nothing runs twice.
        deps.logger.warn({ err: failures[0], failed: failures.length }, "bulk not fully stored");
        const answer = notFullyStored(failures, jobs.length);
        // Answered, not thrown (the body names each job): the request's span fails all the same
        // for a 5xx, and not for a 4xx, as when thrown.
        if (answer.status >= 500) deps.tracing.markFailed(trace, answer.message);
        ctx.status = answer.status;
        ctx.body = {
          error: answer.error,
          message: answer.message,
          jobs: jobs.map((job) => ({
            id: job.id,
            stored: outcomeOf.get(job.index)?.stored === true,
          })),
        };
        return;
      }
      ctx.status = 202;
      ctx.body = {
        jobs: jobs.map((job) => {
          const outcome = outcomeOf.get(job.index);
          return { id: job.id, duplicate: outcome?.stored === true && outcome.duplicate };
        }),
        traceId: deps.tracing.traceIdOf(trace),
      };
    });
  });
  return router;
}

/** The jobs of a bulk body, each checked and with its id fixed; throws when any is refused. */
function checkedJobs(deps: GatewayDeps, body: unknown): BulkJob[] {
  const bulk = checkBulkEnvelope(body);
  if (!bulk.ok) throw new ApiError(400, ErrorCode.InvalidEnvelope, bulk.message, bulk);
  const jobs: BulkJob[] = [];
  const refused: Refused[] = [];
  const repeated = repeatedIds(bulk.jobs);
  // A gateway that does not continue its callers' traces drops a job's own trace fields too.
  const ownTraces = deps.options.continueTraces !== false;
  bulk.jobs.forEach((entry, index) => {
    const envelope = ownTraces ? entry : withoutTraceFields(entry);
    const check = checkBulkJob(envelope, index, {
      earlier: repeated.get(index),
      check: (job) => checkSubmission(job, deps.registry, { source: SubmissionSource.Rest }),
      maxJobBytes: deps.options.maxBodyBytes,
    });
    if (check.ok) jobs.push(check.job);
    else refused.push(refusalInBulk(index, check));
  });
  if (refused.length > 0) throw refusalError(refused, bulk.jobs.length);
  return jobs;
}

/** The first refusal's status and code (422 for an unknown type), naming every refused job. */
function refusalError(refused: Refused[], total: number): ApiError {
  const [first] = refused as [Refused, ...Refused[]];
  const message = `${refused.length} of ${total} jobs refused, none submitted; ${first.message}`;
  const issues = refused.flatMap((r) => r.issues).slice(0, maxIssues);
  return submissionRefused(first.reason, message, issues);
}

function idempotencyHeaderRefused(): ApiError {
  const message = "not accepted on a bulk submission: give each job an id, which deduplicates it";
  return new ApiError(400, ErrorCode.InvalidEnvelope, `Idempotency-Key: ${message}`, {
    issues: [{ path: "Idempotency-Key", message }],
  });
}

/**
 * The answer to a bulk some of whose jobs were not stored: 413 when each was refused for its size
 * (sent again as it is, it would be refused again), 503 otherwise (it may be stored after all, or
 * be stored when sent again).
 */
function notFullyStored(
  failures: readonly unknown[],
  total: number,
): { status: number; error: string; message: string } {
  const [first] = failures;
  if (failures.every(isMessageTooLarge)) {
    return {
      status: 413,
      error: ErrorCode.PayloadTooLarge,
      message:
        `${failures.length} of the bulk's ${total} jobs are larger than the JOBS stream's ` +
        `max_msg_size and were not stored (${errorMessage(first)})` +
        (failures.length < total ? "; the others are stored" : ""),
    };
  }
  return {
    status: 503,
    error: ErrorCode.Unavailable,
    message:
      `JetStream did not confirm ${failures.length} of the bulk's ${total} jobs ` +
      `(${errorMessage(first)}); submit the jobs not stored again, with their ids, so that ` +
      "none is stored twice",
  };
}

/** A bulk entry without the `traceparent` and `tracestate` a job may carry. */
function withoutTraceFields(entry: unknown): unknown {
  if (typeof entry !== "object" || entry === null || Array.isArray(entry)) return entry;
  return Object.fromEntries(
    Object.entries(entry).filter(([key]) => key !== "traceparent" && key !== "tracestate"),
  );
}
