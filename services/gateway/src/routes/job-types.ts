import Router from "@koa/router";

import type { GatewayDeps } from "../deps.ts";
import { jsonBody } from "../http/json-body.ts";
import { parseBody } from "../http/parse-body.ts";
import { parseParams } from "../http/parse-params.ts";
import { pauseType, resumeType } from "../job-types/pause-type.ts";
import type { NatsLink } from "../jobs/nats-link.ts";
import { JobTypeParams, PauseRequest } from "../schemas/job-types.ts";

/**
 * `GET /v1/job-types`: the registered job types with their payload schemas, by name;
 * `POST /v1/job-types/:type/pause` and `.../resume`: stop and restart handing a type's jobs to
 * workers (see {@link pauseType}).
 */
export function jobTypesRouter(deps: GatewayDeps, link: NatsLink): Router {
  const router = new Router();
  router.get("/v1/job-types", (ctx) => {
    const items = [...deps.registry.list()].sort((a, b) => a.type.localeCompare(b.type));
    ctx.body = { items };
  });
  router.post("/v1/job-types/:type/pause", jsonBody(deps.options.maxBodyBytes), async (ctx) => {
    const { type } = parseParams(JobTypeParams, ctx.params);
    const { until } = parseBody(PauseRequest, ctx.request.body);
    ctx.body = await pauseType(deps, link, type, until === undefined ? undefined : new Date(until));
  });
  router.post("/v1/job-types/:type/resume", async (ctx) => {
    const { type } = parseParams(JobTypeParams, ctx.params);
    ctx.body = await resumeType(deps, link, type);
  });
  return router;
}
