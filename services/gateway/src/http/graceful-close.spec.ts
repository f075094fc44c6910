import { once } from "node:events";
import { Agent, createServer, get } from "node:http";
import type { AddressInfo } from "node:net";

import { afterEach, describe, expect, it } from "vitest";

import { closeGracefully } from "./graceful-close.ts";

/** A server answering `/slow` after 300 ms and anything else at once, and a keep-alive client. */
async function serverAndClient() {
  const server = createServer((request, response) => {
    setTimeout(() => response.end(`ok ${request.url ?? ""}`), request.url === "/slow" ? 300 : 1);
  });
  const graceful = closeGracefully(server);
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as AddressInfo;
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const fetchText = (path: string) =>
    new Promise<{ status: number; body: string; connection: string | undefined } | Error>(
      (resolve) => {
        const request = get({ host: "127.0.0.1", port, path, agent }, (response) => {
          let body = "";
          response.on("data", (chunk: Buffer) => (body += chunk.toString()));
          response.on("end", () => {
            resolve({
              status: response.statusCode ?? 0,
              body,
              connection: response.headers.connection,
            });
          });
        });
        request.on("error", resolve);
      },
    );
  return { server, graceful, agent, fetchText };
}

describe("closeGracefully", () => {
  const agents: Agent[] = [];
  afterEach(() => {
    for (const agent of agents.splice(0)) agent.destroy();
  });

  it("answers the request in flight, ends its keep-alive connection, and then is closed", async () => {
    const { graceful, agent, fetchText } = await serverAndClient();
    agents.push(agent);
    await fetchText("/warm");
    const slow = fetchText("/slow");
    await new Promise((resolve) => setTimeout(resolve, 50));

    let closed = false;
    const closing = graceful.close(5000).then(() => {
      closed = true;
    });

    expect(await slow).toEqual({ status: 200, body: "ok /slow", connection: "close" });
    // The connection ended with that answer: the next request cannot reach the closed server.
    expect(await fetchText("/after")).toBeInstanceOf(Error);
    await closing;
    expect(closed).toBe(true);
  });

  it("cuts what is still open once the grace period is over", async () => {
    const { graceful, agent, fetchText } = await serverAndClient();
    agents.push(agent);
    const slow = fetchText("/slow");
    await new Promise((resolve) => setTimeout(resolve, 50));

    await graceful.close(20);

    expect(await slow).toBeInstanceOf(Error);
  });
});
