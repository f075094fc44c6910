import { findRejection, listRejections } from "@conveyor/read-model";
import Router from "@koa/router";

import type { GatewayDeps } from "../deps.ts";
import { notFound } from "../errors.ts";
import { parseParams } from "../http/parse-params.ts";
import { defaultReadTimeoutMs, queryReadModel } from "../jobs/query-read-model.ts";
import { toRejectionView } from "../jobs/rejection-view.ts";
import { ListRejectionsQuery, RejectionIdParams } from "../schemas/rejections.ts";

/** `GET /v1/rejections` and `GET /v1/rejections/:id`: submissions the dispatcher refused. */
export function rejectionsRouter(deps: GatewayDeps): Router {
  const router = new Router();
  const timeoutMs = deps.options.readTimeoutMs ?? defaultReadTimeoutMs;

  router.get("/v1/rejections", async (ctx) => {
    const query = parseParams(ListRejectionsQuery, ctx.query);
    const page = await queryReadModel(
      (deadline) => listRejections(deps.db, { ...query, ...deadline }),
      timeoutMs,
    );
    ctx.body = { items: page.items.map(toRejectionView), nextCursor: page.nextCursor ?? null };
  });

  router.get("/v1/rejections/:id", async (ctx) => {
    const { id } = parseParams(RejectionIdParams, ctx.params);
    const doc = await queryReadModel((deadline) => findRejection(deps.db, id, deadline), timeoutMs);
    if (!doc) throw notFound(`no rejection with id ${id}`);
    ctx.body = toRejectionView(doc);
  });
  return router;
}
