import { readFile, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";

import {
  findBinary,
  jetStreamServerArgs,
  probeNats,
  spawnServer,
  waitUntilReady,
  workspaceRoot,
} from "@conveyor/testing";
import type { ServerProcess } from "@conveyor/testing";

import { onFreePort } from "./free-port-retry.ts";

/** A server the bench started, with the URL clients use. */
export interface BenchServer {
  url: string;
  process: ServerProcess;
}

/**
 * Starts the pinned nats-server the way `npm start` does, from `deploy/nats/local.conf`, on a free
 * loopback port, storing streams in `storeDir`; only JetStream's `sync_interval` is set to
 * `syncInterval` (`always`, or a Go duration such as `1s`). With `pprofPort`, the server also
 * serves Go's pprof handlers there (`--profile`).
 */
export async function startNats(
  storeDir: string,
  syncInterval: string,
  pprofPort?: number,
): Promise<BenchServer> {
  const binary = findBinary("nats-server");
  const configFile = await configWithSyncInterval(storeDir, syncInterval);
  const profiling = pprofPort === undefined ? [] : ["--profile", String(pprofPort)];
  return onFreePort(async (port) => {
    const url = `nats://127.0.0.1:${port}`;
    const proc = spawnServer("nats-server", binary, [
      ...["-c", configFile],
      ...jetStreamServerArgs(port, storeDir),
      ...profiling,
    ]);
    await waitUntilReady(proc, () => probeNats(url), 30_000);
    return { url, process: proc };
  });
}

/** `deploy/nats/local.conf` with its `sync_interval` replaced, written beside `storeDir`. */
async function configWithSyncInterval(storeDir: string, syncInterval: string): Promise<string> {
  const shipped = await readFile(join(workspaceRoot(), "deploy", "nats", "local.conf"), "utf8");
  const line = /^(\s*)sync_interval:.*$/m;
  if (!line.test(shipped)) throw new Error("deploy/nats/local.conf has no sync_interval line");
  const value = syncInterval === "always" ? "always" : JSON.stringify(syncInterval);
  const file = join(dirname(storeDir), "nats-bench.conf");
  await writeFile(file, shipped.replace(line, `$1sync_interval: ${value}`));
  return file;
}
