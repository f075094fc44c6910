import { once } from "node:events";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";

import { createLogger } from "@conveyor/service-kit";
import Koa from "koa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { bearerAuth } from "./bearer-auth.ts";
import { errorMapping } from "./error-mapping.ts";

const current = "token-current-0123456789";
const next = "token-next-abcdefghijklmn";

describe("bearerAuth", () => {
  let server: Server;
  let base: string;

  beforeAll(async () => {
    const app = new Koa();
    app.use(errorMapping(createLogger("test", "silent")));
    app.use(bearerAuth([current, next]));
    app.use((ctx) => {
      ctx.body = { path: ctx.path };
    });
    server = app.listen(0, "127.0.0.1");
    await once(server, "listening");
    base = `http://127.0.0.1:${String((server.address() as AddressInfo).port)}`;
  });
  afterAll(() => {
    server.close();
  });

  const call = (path: string, authorization?: string) =>
    fetch(`${base}${path}`, {
      headers: authorization === undefined ? {} : { authorization },
    });

  it("refuses a request without a token, saying how to authenticate", async () => {
    const response = await call("/v1/jobs");
    expect(response.status).toBe(401);
    expect(response.headers.get("www-authenticate")).toBe('Bearer realm="conveyor"');
    expect(await response.json()).toMatchObject({ error: "unauthorized" });
    expect((await call("/v1/jobs", `Basic ${btoa("a:b")}`)).status).toBe(401);
  });

  it("refuses a token it does not know, as an invalid token", async () => {
    for (const token of ["token-wrong-0123456789", current.slice(0, -1), `${current}x`]) {
      const response = await call("/v1/jobs", `Bearer ${token}`);
      expect(response.status, token).toBe(401);
      expect(response.headers.get("www-authenticate")).toContain('error="invalid_token"');
    }
  });

  it("lets a request with any of its tokens through, so that a token can be rotated", async () => {
    for (const token of [current, next]) {
      const response = await call("/v1/stats", `Bearer ${token}`);
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({ path: "/v1/stats" });
    }
    expect((await call("/v1/stats", `bearer ${current}`)).status).toBe(200);
    expect((await call("/v1/stats", `Bearer   ${current}`)).status).toBe(200);
  });

  it("closes the connection of a refused request with a body, which it leaves unread", async () => {
    const refused = await fetch(`${base}/v1/jobs`, { method: "POST", body: "x".repeat(1000) });
    expect(refused.status).toBe(401);
    expect(refused.headers.get("connection")).toBe("close");
    const bodiless = await call("/v1/jobs");
    expect(bodiless.headers.get("connection")).not.toBe("close");
  });

  it("serves the probes and the API's description without a token, at their exact paths only", async () => {
    for (const path of ["/healthz", "/readyz", "/openapi.json"]) {
      expect((await call(path)).status, path).toBe(200);
    }
    for (const path of ["/healthz/", "/HEALTHZ", "/openapi.json/../v1/stats", "//v1/stats"]) {
      expect((await call(path)).status, path).toBe(401);
    }
  });
});
