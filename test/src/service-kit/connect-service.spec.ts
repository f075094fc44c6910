import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { connectService } from "@conveyor/service-kit";
import {
  findBinary,
  freePort,
  jetStreamServerArgs,
  spawnServer,
  startNatsServer,
  waitFor,
} from "@conveyor/testing";
import { TopologyError, ensureTopology } from "@conveyor/topology";
import { connect } from "@nats-io/transport-node";
import { jetstreamManager } from "@nats-io/jetstream";
import { describe, expect, it } from "vitest";

import { recordingLogger } from "../support/recording-logger.ts";

/** A nats-server with JetStream on `port`, started only when the test says so. */
async function laterServer(port: number) {
  const storeDir = await mkdtemp(join(tmpdir(), "conveyor-connect-service-"));
  let server: ReturnType<typeof spawnServer> | undefined;
  return {
    start: () => {
      server = spawnServer("nats-server", findBinary("nats-server"), [
        ...jetStreamServerArgs(port, storeDir),
      ]);
    },
    [Symbol.asyncDispose]: async () => {
      await server?.stop();
      await rm(storeDir, { recursive: true, force: true });
    },
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("connectService at a service's start", () => {
  it("waits for nats-server, then for the topology, and resolves once both are there", async () => {
    // A first `kubectl apply` starts nats-server, the topology Job and the services together.
    const port = await freePort();
    const url = `nats://127.0.0.1:${port}`;
    await using server = await laterServer(port);
    const { logger, warnings } = recordingLogger();
    let settled = false;
    const connecting = connectService(
      "connect-service",
      { NATS_URL: url, TOPOLOGY_WAIT_MS: 30_000 },
      logger,
    ).finally(() => {
      settled = true;
    });
    await sleep(1000);
    server.start();
    await waitFor(
      () =>
        Promise.resolve(
          warnings("waiting for the JetStream topology to be provisioned").length > 0,
        ),
      { timeoutMs: 20_000, message: "connectService waiting for the topology" },
    );
    expect(settled).toBe(false);
    const provisioner = await connect({ servers: url });
    try {
      await ensureTopology(await jetstreamManager(provisioner));
    } finally {
      await provisioner.close();
    }
    const { nc, jsm } = await connecting;
    try {
      expect((await jsm.streams.info("WORK")).config.name).toBe("WORK");
      expect(warnings("waiting for NATS to accept connections")).toHaveLength(1);
    } finally {
      await nc.close();
    }
  });

  it("waits TOPOLOGY_WAIT_MS in all: the time spent connecting is taken from the topology's wait", async () => {
    const port = await freePort();
    await using server = await laterServer(port);
    const { logger } = recordingLogger();
    const started = Date.now();
    const connecting = connectService(
      "connect-service",
      { NATS_URL: `nats://127.0.0.1:${port}`, TOPOLOGY_WAIT_MS: 4000 },
      logger,
    );
    await sleep(2000);
    server.start();
    const error = await connecting.then(
      () => undefined,
      (err: unknown) => err,
    );
    const waited = Date.now() - started;
    expect(error).toBeInstanceOf(TopologyError);
    expect((error as TopologyError).message).toContain("stream JOBS");
    // Connected at about 2.5 s, one shared wait gives up at about 3.5 s (it checks every second
    // while a check fits before the deadline); two separate waits would at 5-5.5 s.
    expect(waited).toBeGreaterThanOrEqual(2000);
    expect(waited).toBeLessThan(4500);
  });

  it("runs onConnected before the topology wait, so a check of the server fails the start at once", async () => {
    // The dispatcher checks its submission limit against the server's max_payload: a wrong
    // setting must not wait out TOPOLOGY_WAIT_MS first, nor be hidden behind a missing topology.
    await using nats = await startNatsServer();
    const { logger } = recordingLogger();
    const started = Date.now();
    const error = await connectService(
      "connect-service",
      { NATS_URL: nats.url, TOPOLOGY_WAIT_MS: 30_000 },
      logger,
      {
        onConnected: () => {
          throw new Error("MAX_SUBMISSION_BYTES is over the server's max_payload");
        },
      },
    ).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect((error as Error).message).toContain("MAX_SUBMISSION_BYTES");
    expect(Date.now() - started).toBeLessThan(5000);
  });
});
