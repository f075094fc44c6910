import { findBinary, probeMongo, spawnServer, waitUntilReady } from "@conveyor/testing";

import { onFreePort } from "./free-port-retry.ts";
import type { BenchServer } from "./nats.ts";

/** Options of {@link startFerretdb}. */
export interface FerretdbOptions {
  /** Where the SQLite files go. */
  dataDir: string;
  /** How much nicer than the bench it runs, as `npm start` runs it (`READ_MODEL_NICENESS`). */
  niceness: number;
  /** Serve Go's pprof handlers on this port (`-debug-addr`). */
  pprofPort?: number | undefined;
}

/** Starts the pinned FerretDB on a free loopback port, as `npm start` does. */
export async function startFerretdb(options: FerretdbOptions): Promise<BenchServer> {
  const { dataDir, niceness, pprofPort } = options;
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
