import { bulkMessages, checkBulkJob, maxBulkMessageBytes } from "@conveyor/client";
import type { BulkJob, BulkMessage } from "@conveyor/client";
import { Header, SubmissionSource } from "@conveyor/contracts";
import type { ValidationIssue } from "@conveyor/contracts";
import {
  checkBulkEnvelope,
  checkSubmission,
  refusalInBulk,
  repeatedIds,
} from "@conveyor/job-registry";
import type { TraceContext } from "@conveyor/telemetry";
import Router from "@koa/router";

import type { GatewayDeps } from "../deps.ts";
import { ApiError, errorMessage, ErrorCode, natsNotConnected } from "../errors.ts";
import { jsonBody } from "../http/json-body.ts";
import { inRequestSpan } from "../http/request-span.ts";
import { lookUpTypes } from "../jobs/look-up-types.ts";
import type { NatsOut } from "../jobs/nats-out.ts";
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
 * job, with their ids in order; 503 when it did not confirm some of the bulk's messages, listing
 * every job's id and whether it is stored.
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
      const messages = bulkMessages(jobs, maxBulkMessageBytes(deps.nc));
      const settled = await Promise.allSettled(
        messages.map((message) => publish(deps, out, message, trace)),
      );
      const duplicateOf = new Map<number, boolean>();
      const failures: unknown[] = [];
      settled.forEach((result, i) => {
        if (result.status === "rejected") failures.push(result.reason);
        else for (const job of messages[i]?.jobs ?? []) duplicateOf.set(job.index, result.value);
      });
      if (failures.length > 0) {
        // Some of the bulk's messages may be stored (their jobs will run): say which, with the
        // ids, so that the rest can be sent again under the same ids and nothing runs twice.
        deps.logger.warn({ err: failures[0], failed: failures.length }, "bulk not fully stored");
        const message =
          `JetStream did not confirm ${failures.length} of the bulk's ${messages.length} ` +
          `messages (${errorMessage(failures[0])}); submit the jobs not stored again, with ` +
          "their ids, so that none is stored twice";
        // Answered, not thrown (the body names each job): the request's span fails all the same.
        deps.tracing.markFailed(trace, message);
        ctx.status = 503;
        ctx.body = {
          error: ErrorCode.Unavailable,
          message,
          jobs: jobs.map((job) => ({ id: job.id, stored: duplicateOf.has(job.index) })),
        };
        return;
      }
      ctx.status = 202;
      ctx.body = {
        jobs: jobs.map((job) => ({ id: job.id, duplicate: duplicateOf.get(job.index) ?? false })),
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
 * Stores one bulk message in a PRODUCER span of the request's trace; resolves with whether it was
 * a duplicate, rejects when JetStream did not confirm it.
 */
function publish(
  deps: GatewayDeps,
  out: NatsOut,
  message: BulkMessage,
  trace: TraceContext,
): Promise<boolean> {
  const { subject, body, headers, msgID } = message;
  headers.append(Header.Source, SubmissionSource.Rest);
  return deps.tracing.produce(trace, { subject, jobType: message.type }, async (ctx) => {
    deps.tracing.inject(ctx, headers);
    const ack = await out.publisher.publish(subject, body, {
      msgID,
      headers,
      timeout: deps.options.publishTimeoutMs,
    });
    return ack.duplicate;
  });
}

/** A bulk entry without the `traceparent` and `tracestate` a job may carry. */
function withoutTraceFields(entry: unknown): unknown {
  if (typeof entry !== "object" || entry === null || Array.isArray(entry)) return entry;
  return Object.fromEntries(
    Object.entries(entry).filter(([key]) => key !== "traceparent" && key !== "tracestate"),
  );
}
