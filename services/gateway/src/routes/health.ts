import Router from "@koa/router";

import type { GatewayDeps } from "../deps.ts";
import { ErrorCode, errorMessage } from "../errors.ts";
import { withTimeout } from "../http/with-timeout.ts";

/** Default deadline of each readiness check, in milliseconds. */
export const defaultReadyTimeoutMs = 1000;

/** The outcome of checking one dependency. */
export interface DependencyCheck {
  ok: boolean;
  /** Why the dependency is considered down. */
  message?: string;
}

/**
 * `GET /healthz`: the process is up (always 200). `GET /readyz`: 200 when NATS is connected, as
 * `ready` when MongoDB answers a ping too and `degraded` when it does not; 503 when NATS is down.
 * Intake needs only NATS: a readiness probe that also required the read model would take every
 * gateway out of service during a MongoDB outage, refusing submissions it could take.
 */
export function healthRouter(deps: GatewayDeps): Router {
  const router = new Router();
  const timeoutMs = deps.options.readyTimeoutMs ?? defaultReadyTimeoutMs;

  router.get("/healthz", (ctx) => {
    ctx.body = { status: "ok" };
  });

  router.get("/readyz", async (ctx) => {
    const [nats, mongo] = await Promise.all([
      check(() => deps.nc.rtt(), timeoutMs, "NATS"),
      check(() => deps.db.command({ ping: 1 }), timeoutMs, "MongoDB"),
    ]);
    const checks = { nats, mongo };
    if (!nats.ok) {
      const down = mongo.ok ? "nats" : "nats, mongo";
      ctx.status = 503;
      ctx.body = { error: ErrorCode.NotReady, message: `not ready: ${down} down`, checks };
      return;
    }
    ctx.body = mongo.ok
      ? { status: "ready", checks }
      : {
          status: "degraded",
          message: "mongo down: reads answer 503, submissions are accepted",
          checks,
        };
  });
  return router;
}

async function check(
  probe: () => Promise<unknown>,
  timeoutMs: number,
  what: string,
): Promise<DependencyCheck> {
  try {
    await withTimeout(probe(), timeoutMs, what);
    return { ok: true };
  } catch (err) {
    return { ok: false, message: errorMessage(err) };
  }
}
