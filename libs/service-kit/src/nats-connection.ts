import { setTimeout as sleep } from "node:timers/promises";

import { ConnectionError, connect } from "@nats-io/transport-node";
import type { NatsConnection, Status } from "@nats-io/transport-node";

import type { Logger } from "./logger.ts";
import { natsAuthenticator } from "./nats-auth.ts";
import type { NatsAuth } from "./nats-auth.ts";

export interface NatsConnectOptions {
  /** Comma-separated server URLs. */
  url: string;
  /** Client name shown by the server's monitoring. */
  name: string;
  logger: Logger;
  /** How long the first connect may take, in milliseconds. @default 5000 */
  timeoutMs?: number;
  /**
   * How long to keep trying servers that do not accept connections yet (refused, not resolvable),
   * in milliseconds; other failures (authorization) end the connect at once. @default 0
   */
  firstConnectWaitMs?: number;
  /** How to authenticate besides credentials in the URL (see `natsAuthOf`). */
  auth?: NatsAuth | undefined;
  /**
   * How often the client pings the server, in milliseconds; after two pings unanswered at the
   * next one it drops the connection as stale and reconnects. @default 10000
   */
  pingIntervalMs?: number | undefined;
}

/**
 * The services' ping interval by default (`NATS_PING_INTERVAL_MS`), in milliseconds. A server
 * that goes silent without closing the connection (a partition, a node that died) is noticed
 * after three intervals, 30 s, instead of the 6 minutes of nats.js's own 2-minute interval, all
 * the while the service's publishes waiting out their deadlines and its consumers getting nothing.
 * One ping every 10 s per connection costs the server nothing it would notice.
 */
export const defaultNatsPingIntervalMs = 10_000;

/** Pings left unanswered before the connection counts as stale (nats.js's default). */
const maxPingsOut = 2;

/**
 * Connects with unlimited reconnects, so a restart of nats-server is ridden out, and logs the
 * connection's status changes. A service started before its servers listen (a node restart, a
 * first apply) keeps trying for `firstConnectWaitMs`, warning once, instead of exiting into a
 * restart back-off.
 */
export async function connectNats(options: NatsConnectOptions): Promise<NatsConnection> {
  const deadline = Date.now() + (options.firstConnectWaitMs ?? 0);
  for (let warned = false; ; warned = true) {
    try {
      return await connectOnce(options);
    } catch (err) {
      if (!notListening(err) || Date.now() + firstConnectRetryMs > deadline) throw err;
      if (!warned) options.logger.warn({ err }, "waiting for NATS to accept connections");
    }
    await sleep(firstConnectRetryMs);
  }
}

/** Pause between first connects to servers that do not listen yet, in milliseconds. */
const firstConnectRetryMs = 500;

/** Whether a connect failed because no server listens there yet: refused, or not resolvable. */
function notListening(err: unknown): boolean {
  if (err instanceof ConnectionError) return true;
  const { code } = (err ?? {}) as { code?: unknown };
  return (
    typeof code === "string" &&
    ["ENOTFOUND", "EAI_AGAIN", "ECONNREFUSED", "EHOSTUNREACH"].includes(code)
  );
}

async function connectOnce(options: NatsConnectOptions): Promise<NatsConnection> {
  const nc = await connect({
    servers: options.url
      .split(",")
      .map((s) => s.trim())
      .filter((s) => s !== ""),
    name: options.name,
    timeout: options.timeoutMs ?? 5000,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 500,
    pingInterval: options.pingIntervalMs ?? defaultNatsPingIntervalMs,
    maxPingOut: maxPingsOut,
    waitOnFirstConnect: false,
    // Async stack traces cost two Error objects per request (every JetStream publish); the
    // services log their own context instead.
    noAsyncTraces: true,
    ...(options.auth === undefined ? {} : { authenticator: natsAuthenticator(options.auth) }),
  });
  void logStatus(nc, options.logger);
  return nc;
}

async function logStatus(nc: NatsConnection, logger: Logger): Promise<void> {
  for await (const status of nc.status()) logNatsStatus(logger, status);
}

/**
 * Logs one status change of a connection. An error (a permissions violation, an authorization
 * failure) is a warning with the error under `err`, so its message shows and `LOG_LEVEL=warn`
 * keeps it; a lost connection is a warning, its reconnection news; each reconnect attempt (one
 * every 500 ms through an outage) and the pings are debug.
 */
export function logNatsStatus(logger: Logger, status: Status): void {
  switch (status.type) {
    case "ping":
    case "reconnecting":
      logger.debug({ nats: { type: status.type } }, `nats ${status.type}`);
      return;
    case "error":
      logger.warn({ err: status.error, nats: { type: status.type } }, "nats error");
      return;
    case "disconnect":
    case "staleConnection":
    case "slowConsumer":
      logger.warn({ nats: status }, `nats ${status.type}`);
      return;
    default:
      logger.info({ nats: status }, `nats ${status.type}`);
  }
}

/**
 * Exits the process with 1 when the connection closes with an error. Reconnects are unlimited,
 * so that happens only when nats.js gives up for good (for example on a repeated authorization
 * failure after rotated credentials); nothing would consume or publish again, and the
 * supervisor's restart is the way back. A close the service asked for (`drain`, `close`) settles
 * without an error and is left to its shutdown.
 */
export function exitWhenNatsCloses(
  nc: NatsConnection,
  logger: Logger,
  exit: (code: number) => void = (code) => process.exit(code),
): void {
  void nc.closed().then((err) => {
    if (err === undefined) return;
    logger.fatal({ err }, "nats connection closed for good; exiting");
    exit(1);
  });
}
