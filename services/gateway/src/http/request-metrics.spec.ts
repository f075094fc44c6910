import type { AddressInfo } from "node:net";

import Router from "@koa/router";
import Koa from "koa";
import { Registry } from "prom-client";
import { describe, expect, it } from "vitest";

import { requestMetrics } from "./request-metrics.ts";

async function serve(app: Koa): Promise<{ url: string; close: () => void }> {
  const server = app.listen(0, "127.0.0.1");
  await new Promise((resolve) => server.once("listening", resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${String(port)}`, close: () => server.close() };
}

describe("requestMetrics", () => {
  it("counts requests by method, route pattern and final status, never by path", async () => {
    const registry = new Registry();
    const router = new Router();
    router.get("/v1/jobs/:id", (ctx) => {
      ctx.body = { id: ctx.params["id"] };
    });
    const app = new Koa();
    app.use(requestMetrics(registry));
    app.use(router.routes());
    const server = await serve(app);
    try {
      await fetch(`${server.url}/v1/jobs/a`);
      await fetch(`${server.url}/v1/jobs/b`);
      await fetch(`${server.url}/nowhere/c`);
    } finally {
      server.close();
    }

    const text = await registry.metrics();
    expect(text).toContain(
      'http_request_duration_seconds_count{method="GET",route="/v1/jobs/:id",status="200"} 2',
    );
    expect(text).toContain(
      'http_request_duration_seconds_count{method="GET",route="(unmatched)",status="404"} 1',
    );
    expect(text).not.toMatch(/\/v1\/jobs\/a|nowhere/);
  });
});
