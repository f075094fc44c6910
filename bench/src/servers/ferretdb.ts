import { findBinary, probeMongo, spawnServer, waitUntilReady } from "@conveyor/testing";

import { onFreePort } from "./free-port-retry.ts";
import type { BenchServer } from "./nats.ts";

/**
 * Starts the pinned FerretDB (SQLite files in `dataDir`) on a free loopback port, as `npm start`
 * does, `niceness` nicer than the bench. With `pprofPort`, it also serves Go's pprof handlers
 * there (`-debug-addr`).
 */
export async function startFerretdb(
  dataDir: string,
  niceness: number,
  pprofPort?: number,
): Promise<BenchServer> {
  const binary = findBinary("ferretdb");
  const profiling = pprofPort === undefined ? [] : ["-debug-addr", `127.0.0.1:${pprofPort}`];
  return onFreePort(async (port) => {
    const url = `mongodb://127.0.0.1:${port}/`;
    const proc = spawnServer(
      "ferretdb",
      binary,
      [
        "-listen-addr",
        `127.0.0.1:${port}`,
        "-sqlite-dir",
        dataDir,
        "-log-level",
        "error",
        ...profiling,
      ],
      { niceness },
    );
    await waitUntilReady(proc, () => probeMongo(url), 30_000);
    return { url, process: proc };
  });
}
