import Router from "@koa/router";

import type { GatewayDeps } from "../deps.ts";
import { buildOpenApi } from "../openapi/build-openapi.ts";

/** `GET /openapi.json`: the API description, including the job types registered right now. */
export function openApiRouter(deps: GatewayDeps): Router {
  const router = new Router();
  router.get("/openapi.json", (ctx) => {
    ctx.body = buildOpenApi(deps.registry.list());
  });
  return router;
}
