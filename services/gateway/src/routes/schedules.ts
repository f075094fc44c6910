import { RecurringScheduleInput, SubmissionSource } from "@conveyor/contracts";
import type { RecurringSchedule } from "@conveyor/contracts";
import { checkEnvelope, checkSubmission } from "@conveyor/job-registry";
import Router from "@koa/router";

import type { GatewayDeps } from "../deps.ts";
import { ApiError, ErrorCode, notFound } from "../errors.ts";
import { jsonBody } from "../http/json-body.ts";
import { parseBody } from "../http/parse-body.ts";
import { parseParams } from "../http/parse-params.ts";
import { inRequestSpan } from "../http/request-span.ts";
import { lookUpTypes } from "../jobs/look-up-types.ts";
import type { NatsOut } from "../jobs/nats-out.ts";
import { submissionRefused } from "../jobs/submission-refused.ts";
import { ListSchedulesQuery, ScheduleParams } from "../schemas/schedules.ts";
import { ScheduleRuns } from "../schedules/schedule-runs.ts";
import {
  deleteSchedule,
  findScheduleView,
  listSchedules,
  scheduleView,
  storeSchedule,
} from "../schedules/schedule-store.ts";

/**
 * Recurring schedules: `PUT /v1/schedules/:name` creates or replaces one (its job checked as
 * `POST /v1/jobs` checks a job), `GET /v1/schedules` and `GET /v1/schedules/:name` read them,
 * `DELETE /v1/schedules/:name` deletes one. They live in `SCHEDULES`, where nats-server's
 * scheduler ticks them and the dispatcher submits their job at each tick, recording it as the
 * schedule's latest run, which the schedule is answered with.
 */
export function schedulesRouter(deps: GatewayDeps, out: NatsOut): Router {
  const router = new Router();
  const runs = new ScheduleRuns(deps.jsm, deps.logger);

  router.put("/v1/schedules/:name", jsonBody(deps.options.maxBodyBytes), async (ctx) => {
    const { name } = parseParams(ScheduleParams, ctx.params);
    // The job's payload first (nesting, keys) without zod, whose recursion deep JSON overflows.
    refuseUnreadableJob(ctx.request.body);
    const input = parseBody(RecurringScheduleInput, ctx.request.body);
    await inRequestSpan(deps, ctx, "PUT", "/v1/schedules/:name", async (trace) => {
      if ((input.cron === undefined) === (input.every === undefined)) {
        const message = "give cron or every, one of them";
        throw new ApiError(400, ErrorCode.InvalidBody, `invalid request body: cron`, {
          issues: [{ path: "cron", message }],
        });
      }
      await lookUpTypes(deps.registry, out, [input.job.type], deps.options.publishTimeoutMs);
      const checked = checkSubmission(input.job, deps.registry, { source: SubmissionSource.Rest });
      if (!checked.ok) {
        const issues = checked.issues.map((issue) => ({ ...issue, path: `job.${issue.path}` }));
        throw submissionRefused(checked.reason, checked.message, issues);
      }
      const schedule: RecurringSchedule = {
        name,
        ...(input.cron === undefined ? {} : { cron: input.cron }),
        ...(input.every === undefined ? {} : { every: input.every }),
        job: input.job,
        source: SubmissionSource.Rest,
        updatedAt: new Date().toISOString(),
      };
      const stored = await storeSchedule(deps, out, schedule, trace);
      ctx.body = await scheduleView(deps, runs.lookup(), stored);
    });
  });

  router.get("/v1/schedules", async (ctx) => {
    const page = parseParams(ListSchedulesQuery, ctx.query);
    ctx.body = await listSchedules(deps, runs.lookup(), page);
  });

  router.get("/v1/schedules/:name", async (ctx) => {
    const { name } = parseParams(ScheduleParams, ctx.params);
    const schedule = await findScheduleView(deps, runs.lookup(), name);
    if (schedule === undefined) throw notFound(`no schedule named ${name}`);
    ctx.body = schedule;
  });

  router.delete("/v1/schedules/:name", async (ctx) => {
    const { name } = parseParams(ScheduleParams, ctx.params);
    if (!(await deleteSchedule(deps, runs, name))) throw notFound(`no schedule named ${name}`);
    ctx.status = 204;
  });
  return router;
}

/** Refuses a body whose `job` is no envelope it could read, naming `job.<field>`. */
function refuseUnreadableJob(body: unknown): void {
  if (typeof body !== "object" || body === null || !("job" in body)) return;
  const checked = checkEnvelope(body.job);
  if (checked.ok) return;
  const issues = checked.issues.map((issue) => ({ ...issue, path: `job.${issue.path}` }));
  throw submissionRefused(checked.reason, checked.message, issues);
}
