import { freePort, ServerStartError } from "@conveyor/testing";

/** Attempts with a fresh port when another process took the free port first. */
const attempts = 3;

/** Runs `launch` on a free loopback port, trying another port if the first was taken meanwhile. */
export async function onFreePort<T>(launch: (port: number) => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    try {
      return await launch(port);
    } catch (err) {
      const taken = err instanceof ServerStartError && /address already in use/i.test(err.output);
      if (!taken || attempt >= attempts) throw err;
    }
  }
}
