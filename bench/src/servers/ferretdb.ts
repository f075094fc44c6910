import { findBinary, probeMongo, spawnServer, waitUntilReady } from "@conveyor/testing";

import { onFreePort } from "./free-port-retry.ts";
import type { BenchServer } from "./nats.ts";

/** Starts the pinned FerretDB (SQLite files in `dataDir`) on a free loopback port, as `npm start` does. */
export async function startFerretdb(dataDir: string): Promise<BenchServer> {
  const binary = findBinary("ferretdb");
  return onFreePort(async (port) => {
    const url = `mongodb://127.0.0.1:${port}/`;
    const proc = spawnServer("ferretdb", binary, [
      "-listen-addr",
      `127.0.0.1:${port}`,
      "-sqlite-dir",
      dataDir,
      "-log-level",
      "error",
    ]);
    await waitUntilReady(proc, () => probeMongo(url), 30_000);
    return { url, process: proc };
  });
}
