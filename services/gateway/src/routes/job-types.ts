import Router from "@koa/router";

import type { GatewayDeps } from "../deps.ts";

/** `GET /v1/job-types`: the registered job types with their payload schemas, by name. */
export function jobTypesRouter(deps: GatewayDeps): Router {
  const router = new Router();
  router.get("/v1/job-types", (ctx) => {
    const items = [...deps.registry.list()].sort((a, b) => a.type.localeCompare(b.type));
    ctx.body = { items };
  });
  return router;
}
