import { createServer, connect as tcpConnect } from "node:net";
import type { Server, Socket } from "node:net";
import { once } from "node:events";

import { connectService } from "@conveyor/service-kit";
import { startNatsServer, waitFor } from "@conveyor/testing";
import { ensureTopology } from "@conveyor/topology";
import { jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import type { Status } from "@nats-io/transport-node";
import { describe, expect, it } from "vitest";

import { recordingLogger } from "../support/recording-logger.ts";

/**
 * A TCP proxy to a local port whose open connections can go silent the way one to a partitioned
 * server or a dead node does: they stay open, but nothing passes in either direction and no reset
 * comes. Connections made after that pass again, as to the cluster's other servers.
 */
async function silenceableProxy(target: URL) {
  const pairs = new Set<[Socket, Socket]>();
  const server: Server = createServer((client) => {
    client.on("error", () => undefined);
    const upstream = tcpConnect(Number(target.port), target.hostname);
    upstream.on("error", () => undefined);
    client.pipe(upstream);
    upstream.pipe(client);
    pairs.add([client, upstream]);
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as { port: number };
  return {
    url: `nats://127.0.0.1:${port}`,
    silence: () => {
      for (const [client, upstream] of pairs) {
        client.unpipe(upstream);
        upstream.unpipe(client);
        // Read and dropped: no backpressure, no reset, just silence.
        client.on("data", () => undefined);
        upstream.on("data", () => undefined);
      }
    },
    [Symbol.asyncDispose]: async () => {
      for (const [client, upstream] of pairs) {
        client.destroy();
        upstream.destroy();
      }
      server.close();
      await once(server, "close");
    },
  };
}

describe("a service's NATS connection to a server that goes silent", () => {
  it("notices within its ping interval and reconnects instead of waiting minutes", async () => {
    await using nats = await startNatsServer();
    const provisioner = await connect({ servers: nats.url });
    await ensureTopology(await jetstreamManager(provisioner));
    await provisioner.close();
    await using proxy = await silenceableProxy(new URL(nats.url));
    const { logger } = recordingLogger();
    const { nc } = await connectService(
      "stale-connection",
      { NATS_URL: proxy.url, TOPOLOGY_WAIT_MS: 10_000, NATS_PING_INTERVAL_MS: 200 },
      logger,
    );
    try {
      const seen: Status["type"][] = [];
      void (async () => {
        for await (const status of nc.status()) seen.push(status.type);
      })();
      proxy.silence();
      await waitFor(() => Promise.resolve(seen.includes("reconnect")), {
        timeoutMs: 10_000,
        message: "the silent connection was not given up",
      });
      expect(seen).toContain("staleConnection");
      await nc.flush();
    } finally {
      await nc.close();
    }
  });
});
