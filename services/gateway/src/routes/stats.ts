import { countJobsByStatusAndType } from "@conveyor/read-model";
import Router from "@koa/router";

import type { GatewayDeps } from "../deps.ts";
import { natsNotConnected } from "../errors.ts";
import { defaultReadTimeoutMs, queryReadModel } from "../jobs/query-read-model.ts";
import type { NatsLink } from "../jobs/nats-link.ts";
import { withinJetStreamDeadline } from "../jobs/within-jetstream-deadline.ts";
import type { Stats } from "../schemas/stats.ts";
import { summarizeJobCounts } from "../stats/job-counts.ts";
import { scheduledJobs, workQueueStats } from "../stats/work-queues.ts";

/**
 * `GET /v1/stats`: job counts from the read model, and for every registered type its work-queue
 * depth and work-consumer counters from JetStream, with the scheduled jobs not queued yet.
 */
export function statsRouter(deps: GatewayDeps, link: NatsLink): Router {
  const router = new Router();
  const readTimeoutMs = deps.options.readTimeoutMs ?? defaultReadTimeoutMs;

  router.get("/v1/stats", async (ctx) => {
    const types = deps.registry.list().map((d) => d.type);
    const [rows, { workQueues, scheduled }] = await Promise.all([
      queryReadModel((deadline) => countJobsByStatusAndType(deps.db, deadline), readTimeoutMs),
      jetStreamStats(deps, link, types),
    ]);
    const stats: Stats = { jobs: summarizeJobCounts(rows), workQueues, scheduled };
    ctx.body = stats;
  });
  return router;
}

async function jetStreamStats(
  deps: GatewayDeps,
  link: NatsLink,
  types: readonly string[],
): Promise<Pick<Stats, "workQueues" | "scheduled">> {
  if (!link.up) throw natsNotConnected("work-queue stats are unavailable");
  const [workQueues, scheduled] = await withinJetStreamDeadline(
    deps,
    "work-queue stats are unavailable",
    () => Promise.all([workQueueStats(deps.jsm, types), scheduledJobs(deps.jsm)]),
  );
  return { workQueues, scheduled };
}
