import { once } from "node:events";
import type { AddressInfo } from "node:net";
import { Writable } from "node:stream";

import Koa from "koa";
import { pino } from "pino";
import { describe, expect, it } from "vitest";

import { requestLogging } from "./request-logging.ts";

/** A Koa app that answers `/status/<n>` with status n, logging through `requestLogging`. */
async function serveLoggedAt(level: string) {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      done();
    },
  });
  const app = new Koa();
  app.use(requestLogging(pino({ level }, sink)));
  app.use((ctx) => {
    ctx.status = Number(ctx.path.split("/")[2]);
    ctx.body = {};
  });
  const server = app.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as AddressInfo;
  return {
    lines,
    get: (path: string) => fetch(`http://127.0.0.1:${port}${path}`).then((r) => r.text()),
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}

describe("requestLogging", () => {
  it("logs refused and failed requests at info, answered ones only at debug", async () => {
    const info = await serveLoggedAt("info");
    await info.get("/status/202");
    await info.get("/status/404");
    await info.get("/status/503");
    await info.close();
    expect(info.lines.map((l) => l["status"])).toEqual([404, 503]);
    expect(info.lines[0]).toMatchObject({ msg: "request", method: "GET", path: "/status/404" });

    const debug = await serveLoggedAt("debug");
    await debug.get("/status/202");
    await debug.close();
    expect(debug.lines).toMatchObject([{ msg: "request", status: 202, level: 20 }]);
  });
});
