import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { findBinary } from "./binaries.ts";
import { probeNats } from "./probes.ts";
import { spawnServer, waitUntilReady } from "./server-process.ts";
import { startRestartable } from "./restartable-server.ts";

/** A nats-server with JetStream, started by the harness or reused from `NATS_URL`. */
export interface NatsServerHandle extends AsyncDisposable {
  /** Client URL, `nats://127.0.0.1:<port>`. */
  url: string;
  port: number;
  /** JetStream store directory (a temp dir); empty when the server is reused from `NATS_URL`. */
  storeDir: string;
  /** Stops the server, keeping its store so {@link restart} finds the same streams. No-op when reused. */
  stop(): Promise<void>;
  /** Stops (if running) and starts the server again on the same port with the same store dir. */
  restart(): Promise<void>;
}

/** Options of {@link startNatsServer}; the brief's API takes none, these exist for tests. */
export interface StartNatsOptions {
  /** Environment consulted for `NATS_URL`, `PATH` and `CI`. @default process.env */
  env?: NodeJS.ProcessEnv;
  /** How long the server may take to answer, in milliseconds. @default 20000 */
  readyTimeoutMs?: number;
}

const binaryName = "nats-server";

/** nats-server's arguments for JetStream on a loopback `port`, storing in `storeDir`. */
export function jetStreamServerArgs(port: number, storeDir: string): string[] {
  return ["-a", "127.0.0.1", "-p", String(port), "-js", "-sd", storeDir];
}

/**
 * Starts nats-server with JetStream on a free loopback port and a temp store dir, and waits until
 * its JetStream API answers. With `NATS_URL` set, reuses that server instead (stop is a no-op and
 * restart throws).
 */
export async function startNatsServer(options: StartNatsOptions = {}): Promise<NatsServerHandle> {
  const env = options.env ?? process.env;
  const existing = env.NATS_URL;
  if (existing !== undefined && existing !== "") return reusedServer(existing);

  const binary = findBinary(binaryName, env);
  const readyTimeoutMs = options.readyTimeoutMs ?? 20_000;
  const storeDir = await mkdtemp(join(tmpdir(), "conveyor-nats-"));
  const server = await startRestartable(storeDir, async (port) => {
    const proc = spawnServer(binaryName, binary, jetStreamServerArgs(port, storeDir));
    await waitUntilReady(proc, () => probeNats(`nats://127.0.0.1:${port}`), readyTimeoutMs);
    return proc;
  });
  return {
    url: `nats://127.0.0.1:${server.port}`,
    port: server.port,
    storeDir,
    stop: () => server.stop(),
    restart: () => server.restart(),
    [Symbol.asyncDispose]: () => server[Symbol.asyncDispose](),
  };
}

function reusedServer(url: string): NatsServerHandle {
  const first = url.split(",")[0]?.trim() ?? url;
  const port = Number(new URL(first.includes("://") ? first : `nats://${first}`).port || 4222);
  return {
    url,
    port,
    storeDir: "",
    stop: async () => {},
    restart: () =>
      Promise.reject(new Error("restart() needs a harness-started nats-server; unset NATS_URL")),
    [Symbol.asyncDispose]: async () => {},
  };
}
