import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { findBinary } from "./binaries.ts";
import { probeMongo } from "./probes.ts";
import { spawnServer, waitUntilReady } from "./server-process.ts";
import { startRestartable } from "./restartable-server.ts";

/** A MongoDB-compatible server (FerretDB on SQLite), started by the harness or reused from `MONGO_URL`. */
export interface MongoServerHandle extends AsyncDisposable {
  /** Connection string, `mongodb://127.0.0.1:<port>/`. */
  url: string;
  /** Stops the server, keeping its data dir so {@link restart} finds the same documents. No-op when reused. */
  stop(): Promise<void>;
  /** Stops (if running) and starts the server again on the same port with the same data dir. */
  restart(): Promise<void>;
}

/** Options of {@link startMongoServer}; the brief's API takes none, these exist for tests. */
export interface StartMongoOptions {
  /** Environment consulted for `MONGO_URL`, `PATH` and `CI`. @default process.env */
  env?: NodeJS.ProcessEnv;
  /** How long the server may take to answer a ping, in milliseconds. @default 30000 */
  readyTimeoutMs?: number;
}

const binaryName = "ferretdb";

/**
 * Starts FerretDB on a free loopback port with its own temp SQLite dir and waits until a MongoDB
 * client's ping works. With `MONGO_URL` set, reuses that server instead (stop is a no-op and
 * restart throws).
 */
export async function startMongoServer(
  options: StartMongoOptions = {},
): Promise<MongoServerHandle> {
  const env = options.env ?? process.env;
  const existing = env.MONGO_URL;
  if (existing !== undefined && existing !== "") {
    return {
      url: existing,
      stop: async () => {},
      restart: () =>
        Promise.reject(new Error("restart() needs a harness-started FerretDB; unset MONGO_URL")),
      [Symbol.asyncDispose]: async () => {},
    };
  }

  const binary = findBinary(binaryName, env);
  const readyTimeoutMs = options.readyTimeoutMs ?? 30_000;
  const dataDir = await mkdtemp(join(tmpdir(), "conveyor-ferretdb-"));
  const server = await startRestartable(dataDir, async (port) => {
    const proc = spawnServer(binaryName, binary, [
      "-listen-addr",
      `127.0.0.1:${port}`,
      "-sqlite-dir",
      dataDir,
      "-log-level",
      "warn",
    ]);
    await waitUntilReady(proc, () => probeMongo(`mongodb://127.0.0.1:${port}/`), readyTimeoutMs);
    return proc;
  });
  return {
    url: `mongodb://127.0.0.1:${server.port}/`,
    stop: () => server.stop(),
    restart: () => server.restart(),
    [Symbol.asyncDispose]: () => server[Symbol.asyncDispose](),
  };
}
