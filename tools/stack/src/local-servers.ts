import { mkdir } from "node:fs/promises";
import { createServer } from "node:net";

import { probeMongo, probeNats, spawnServer, waitUntilReady } from "@conveyor/testing";
import type { ServerProcess } from "@conveyor/testing";

import { StackError } from "./errors.ts";

/** A server `npm start` runs, with the URL clients use. */
export interface LocalServer {
  url: string;
  process: ServerProcess;
}

/** Options shared by {@link startLocalNats} and {@link startLocalFerretdb}. */
export interface LocalServerOptions {
  binary: string;
  port: number;
  /** Where the server keeps its data between runs. */
  dataDir: string;
  /** The environment variable that sets `port`, for the "port in use" message. */
  portVariable: string;
  /** Called with the server's output. */
  onOutput?: (text: string, stream: "stdout" | "stderr") => void;
  /** How long the server may take to answer, in milliseconds. @default 30000 */
  readyTimeoutMs?: number;
  /** How much nicer than this process the server runs. @default 0 */
  niceness?: number;
}

/**
 * Fails with a clear message when something already listens on `127.0.0.1:port`; the server's own
 * error for that is buried in its log.
 */
export async function assertPortFree(port: number, variable: string, hint = ""): Promise<void> {
  const server = createServer();
  try {
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, "127.0.0.1", resolve);
    });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new StackError(
      code === "EADDRINUSE"
        ? `port ${port} is already in use (another Conveyor stack or server, or the services of a ` +
            `stack stopped a moment ago, which take up to SHUTDOWN_GRACE_MS and a few seconds to ` +
            `end). Stop it or wait, or set ${variable} to a free port.${hint}`
        : `cannot listen on 127.0.0.1:${port} (${variable}): ${String(code)}`,
      { cause: err },
    );
  } finally {
    await new Promise<void>((resolve) => {
      server.close(() => {
        resolve();
      });
    });
  }
}

/** Starts nats-server with JetStream from `configFile`, storing streams in `dataDir`. */
export async function startLocalNats(
  options: LocalServerOptions & { configFile: string },
): Promise<LocalServer> {
  await assertPortFree(
    options.port,
    options.portVariable,
    " Or set NATS_URL to use a running server.",
  );
  await mkdir(options.dataDir, { recursive: true });
  const url = `nats://127.0.0.1:${options.port}`;
  const proc = spawnServer(
    "nats-server",
    options.binary,
    [
      "-c",
      options.configFile,
      "-a",
      "127.0.0.1",
      "-p",
      String(options.port),
      "-js",
      "-sd",
      options.dataDir,
    ],
    { detached: true, onOutput: options.onOutput },
  );
  await waitUntilReady(proc, () => probeNats(url), options.readyTimeoutMs ?? 30_000);
  return { url, process: proc };
}

/**
 * Starts FerretDB on SQLite files in `dataDir`. Its log level is `error`: at `warn` it dumps every
 * command it does not implement (the driver's `endSessions` on each close), which buries the
 * services' logs.
 */
export async function startLocalFerretdb(options: LocalServerOptions): Promise<LocalServer> {
  await assertPortFree(
    options.port,
    options.portVariable,
    " Or set MONGO_URL to use a running server.",
  );
  await mkdir(options.dataDir, { recursive: true });
  const url = `mongodb://127.0.0.1:${options.port}/`;
  const proc = spawnServer(
    "ferretdb",
    options.binary,
    [
      "-listen-addr",
      `127.0.0.1:${options.port}`,
      "-sqlite-dir",
      options.dataDir,
      "-log-level",
      "error",
    ],
    { detached: true, onOutput: options.onOutput, niceness: options.niceness ?? 0 },
  );
  await waitUntilReady(proc, () => probeMongo(url), options.readyTimeoutMs ?? 30_000);
  return { url, process: proc };
}
