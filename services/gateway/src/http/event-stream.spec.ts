import { once } from "node:events";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";

import Koa from "koa";
import { afterEach, describe, expect, it } from "vitest";

import { EventStream } from "./event-stream.ts";

/** Serves `use` on a free loopback port; the base URL and the server. */
async function serve(use: (stream: EventStream) => void, keepAliveMs?: number) {
  const app = new Koa();
  // A client leaving mid-stream is an error of the response, which Koa prints unless silent.
  app.silent = true;
  app.use((ctx) => {
    use(new EventStream(ctx, keepAliveMs));
  });
  const server = app.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as AddressInfo;
  return { server, url: `http://127.0.0.1:${String(port)}/` };
}

/** The events of a server-sent events text: each one's name and data, comments apart. */
function eventsOf(text: string): { name: string; data: string }[] {
  return text
    .split("\n\n")
    .filter((block) => block.startsWith("event: "))
    .map((block) => {
      const [event, data] = block.split("\n");
      return {
        name: event?.slice("event: ".length) ?? "",
        data: data?.slice("data: ".length) ?? "",
      };
    });
}

describe("EventStream", () => {
  const servers: Server[] = [];
  afterEach(() => {
    for (const server of servers.splice(0)) server.close();
  });

  it("answers an event stream, one event per send, and ends when told", async () => {
    const { server, url } = await serve((stream) => {
      stream.send("job", JSON.stringify({ n: 1, note: "two\nlines" }));
      setTimeout(() => {
        stream.send("job", JSON.stringify({ n: 2 }));
        stream.send("end", "{}");
        stream.end();
        stream.send("job", JSON.stringify({ n: 3 }));
      }, 50);
    });
    servers.push(server);
    const response = await fetch(url);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toMatch(/^text\/event-stream/);
    expect(response.headers.get("cache-control")).toContain("no-cache");
    expect(response.headers.get("x-accel-buffering")).toBe("no");
    // A reconnect opens a new connection, which may reach another replica.
    expect(response.headers.get("connection")).toBe("close");
    const text = await response.text();
    expect(text.startsWith("retry: ")).toBe(true);
    expect(eventsOf(text)).toEqual([
      { name: "job", data: String.raw`{"n":1,"note":"two\nlines"}` },
      { name: "job", data: '{"n":2}' },
      { name: "end", data: "{}" },
    ]);
  });

  it("sends a comment while idle so that proxies keep the stream open", async () => {
    const { server, url } = await serve((stream) => {
      setTimeout(() => {
        stream.end();
      }, 250);
    }, 50);
    servers.push(server);
    const text = await (await fetch(url)).text();
    expect(text.match(/^: keep-alive$/gm)?.length).toBeGreaterThanOrEqual(2);
  });

  it("gives a client behind on its reading the newest event of each name, not every one", async () => {
    const sent = 2000;
    const { server, url } = await serve((stream) => {
      // Written in one turn: the response cannot take them as fast, and the stream holds back.
      for (let n = 1; n <= sent; n++) {
        stream.send("job", JSON.stringify({ n, padding: "x".repeat(1000) }));
      }
      stream.send("end", "{}");
      stream.end();
    });
    servers.push(server);
    const events = eventsOf(await (await fetch(url)).text());
    const jobs = events.filter((event) => event.name === "job");
    expect(jobs.length).toBeLessThan(sent);
    expect(JSON.parse(jobs.at(-1)?.data ?? "{}")).toMatchObject({ n: sent });
    const numbers = jobs.map((event) => (JSON.parse(event.data) as { n: number }).n);
    expect(numbers).toEqual([...numbers].sort((a, b) => a - b));
    expect(events.at(-1)).toEqual({ name: "end", data: "{}" });
  });

  it("is closed once a client gone before it opened is found gone", async () => {
    let stream: EventStream | undefined;
    const app = new Koa();
    app.silent = true;
    app.use(async (ctx) => {
      // The client leaves while the job is being read, before the stream is opened.
      await once(ctx.req.socket, "close");
      stream = new EventStream(ctx);
    });
    const server = app.listen(0, "127.0.0.1");
    servers.push(server);
    await once(server, "listening");
    const { port } = server.address() as AddressInfo;
    const leaving = new AbortController();
    const asked = fetch(`http://127.0.0.1:${String(port)}/`, { signal: leaving.signal });
    setTimeout(() => {
      leaving.abort();
    }, 100);
    await expect(asked).rejects.toThrow();
    await expect.poll(() => stream?.closed.aborted, { timeout: 2000 }).toBe(true);
  });

  it("writes what it held as soon as the client has caught up, not only at the end", async () => {
    const sent = 2000;
    const { server, url } = await serve((stream) => {
      for (let n = 1; n <= sent; n++) {
        stream.send("job", JSON.stringify({ n, padding: "x".repeat(1000) }));
      }
      setTimeout(() => {
        stream.send("end", "{}");
        stream.end();
      }, 1000);
    });
    servers.push(server);
    const response = await fetch(url);
    const decoder = new TextDecoder();
    let text = "";
    let newestAt: number | undefined;
    for await (const chunk of response.body as AsyncIterable<Uint8Array>) {
      text += decoder.decode(chunk, { stream: true });
      if (newestAt === undefined && text.includes(`{"n":${String(sent)},`)) newestAt = Date.now();
    }
    const endedAt = Date.now();
    expect(newestAt).toBeDefined();
    // The newest event came once the client had read the rest, well before the stream's end.
    expect(endedAt - (newestAt ?? endedAt)).toBeGreaterThan(500);
  });

  it("stops when the client goes away", async () => {
    let stream: EventStream | undefined;
    const { server, url } = await serve((opened) => {
      stream = opened;
    });
    servers.push(server);
    const leaving = new AbortController();
    const response = await fetch(url, { signal: leaving.signal });
    expect(response.status).toBe(200);
    expect(stream?.open).toBe(true);
    leaving.abort();
    await expect.poll(() => stream?.open, { timeout: 2000 }).toBe(false);
    expect(stream?.closed.aborted).toBe(true);
  });
});
