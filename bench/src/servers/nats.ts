import { join } from "node:path";

import {
  findBinary,
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
 * Starts the pinned nats-server the way `npm start` does: `deploy/nats/local.conf` (JetStream with
 * `sync_interval: always`, so every acknowledged job is on disk), on a free loopback port, storing
 * streams in `storeDir`.
 */
export async function startNats(storeDir: string): Promise<BenchServer> {
  const binary = findBinary("nats-server");
  const configFile = join(workspaceRoot(), "deploy", "nats", "local.conf");
  return onFreePort(async (port) => {
    const url = `nats://127.0.0.1:${port}`;
    const proc = spawnServer("nats-server", binary, [
      "-c",
      configFile,
      "-a",
      "127.0.0.1",
      "-p",
      String(port),
      "-js",
      "-sd",
      storeDir,
    ]);
    await waitUntilReady(proc, () => probeNats(url), 30_000);
    return { url, process: proc };
  });
}
