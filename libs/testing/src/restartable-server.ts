import { rm } from "node:fs/promises";

import { ServerStartError } from "./errors.ts";
import { freePort } from "./free-port.ts";
import type { ServerProcess } from "./server-process.ts";

/** A harness server on a loopback port that keeps its port and data dir across restarts. */
export interface RestartableServer extends AsyncDisposable {
  port: number;
  /** Stops the process, keeping its data dir. */
  stop(): Promise<void>;
  /** Stops (if running) and launches again on the same port with the same data dir. */
  restart(): Promise<void>;
}

/** Attempts with a fresh port when another process grabbed the free port first. */
const portAttempts = 3;

/**
 * Launches a server on a free port, retrying with another port when it was taken meanwhile.
 * `launch(port)` spawns the process and resolves once it answers. Disposing stops the process and
 * removes `dataDir`, which is also removed when the server never started.
 */
export async function startRestartable(
  dataDir: string,
  launch: (port: number) => Promise<ServerProcess>,
): Promise<RestartableServer> {
  let port = 0;
  let server: ServerProcess | undefined;
  try {
    for (let attempt = 1; ; attempt++) {
      port = await freePort();
      try {
        server = await launch(port);
        break;
      } catch (err) {
        const taken = err instanceof ServerStartError && /address already in use/i.test(err.output);
        if (!taken || attempt >= portAttempts) throw err;
      }
    }
  } catch (err) {
    await rm(dataDir, { recursive: true, force: true });
    throw err;
  }

  const stop = async () => {
    await server?.stop();
    server = undefined;
  };
  return {
    port,
    stop,
    async restart() {
      await stop();
      server = await launch(port);
    },
    async [Symbol.asyncDispose]() {
      await stop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
