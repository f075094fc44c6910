import Router from "@koa/router";

import type { GatewayDeps } from "../deps.ts";
import { buildOpenApi } from "../openapi/build-openapi.ts";

/**
 * `GET /openapi.json`: the API description, including the job types registered right now. Built
 * again only when the registered types changed: building it converts every schema to JSON Schema,
 * 10-15 ms of the event loop that submissions share, which a client polling the document would
 * otherwise take from them on every request.
 */
export function openApiRouter(deps: GatewayDeps): Router {
  const router = new Router();
  let built: { types: string; json: string } | undefined;
  router.get("/openapi.json", (ctx) => {
    const registered = deps.registry.list();
    const types = JSON.stringify(registered);
    if (built?.types !== types) {
      const bearerAuth = (deps.options.apiTokens ?? []).length > 0;
      built = { types, json: JSON.stringify(buildOpenApi(registered, undefined, { bearerAuth })) };
    }
    ctx.type = "application/json";
    ctx.body = built.json;
  });
  return router;
}
