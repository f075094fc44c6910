import { awaitTopology } from "@conveyor/topology";
import { jetstreamManager } from "@nats-io/jetstream";
import type { JetStreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";

import type { Logger } from "./logger.ts";
import { natsAuthOf } from "./nats-auth.ts";
import type { NatsAuthEnv } from "./nats-auth.ts";
import { connectNats, exitWhenNatsCloses } from "./nats-connection.ts";

/** What {@link connectService} reads of a service's environment; `commonEnv` holds all of it. */
export interface ServiceConnectionEnv extends NatsAuthEnv {
  NATS_URL: string;
  TOPOLOGY_WAIT_MS: number;
  /** @default defaultNatsPingIntervalMs */
  NATS_PING_INTERVAL_MS?: number;
}

/** What {@link connectService} does besides connecting. */
export interface ConnectServiceOptions {
  /**
   * Runs once connected, before the topology wait: a check of what the server reports (its
   * `max_payload`) that throws fails the start at once, instead of after `TOPOLOGY_WAIT_MS` or
   * behind a missing topology.
   */
  onConnected?: (nc: NatsConnection) => void;
}

/** A started service's NATS connection, and a JetStream manager on it. */
export interface ServiceConnection {
  nc: NatsConnection;
  jsm: JetStreamManager;
}

/**
 * Connects a starting service to NATS and resolves once the JetStream topology is in place. On a
 * first `kubectl apply`, or after a node restart, nats-server, the topology's provisioning and the
 * services start together: the service waits, up to `TOPOLOGY_WAIT_MS` in all, for nats-server to
 * accept the connection, for JetStream to answer and for the topology to be complete, warning what
 * it waits for, instead of exiting into a restart back-off. Past that it throws what is still
 * missing; an authorization failure throws at once. Once connected, the process exits when the
 * connection closes for good (see `exitWhenNatsCloses`).
 */
export async function connectService(
  name: string,
  env: ServiceConnectionEnv,
  logger: Logger,
  { onConnected }: ConnectServiceOptions = {},
): Promise<ServiceConnection> {
  // One deadline for the three waits: the time spent connecting is taken from the topology's.
  const readyBy = Date.now() + env.TOPOLOGY_WAIT_MS;
  const nc = await connectNats({
    url: env.NATS_URL,
    name,
    logger,
    auth: natsAuthOf(env),
    firstConnectWaitMs: env.TOPOLOGY_WAIT_MS,
    pingIntervalMs: env.NATS_PING_INTERVAL_MS,
  });
  try {
    onConnected?.(nc);
    exitWhenNatsCloses(nc, logger);
    // Without the API check: nats.js's would throw while JetStream does not answer yet, which
    // awaitTopology waits for.
    const jsm = await jetstreamManager(nc, { checkAPI: false });
    await awaitTopology(jsm, { timeoutMs: Math.max(0, readyBy - Date.now()), logger });
    return { nc, jsm };
  } catch (err) {
    // A start that fails leaves no connection behind to reconnect for ever.
    await nc.close().catch(() => undefined);
    throw err;
  }
}
