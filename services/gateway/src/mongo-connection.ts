import { setTimeout as sleep } from "node:timers/promises";

import type { Logger } from "@conveyor/service-kit";
import type { MongoClient } from "mongodb";

/** Pauses between connect attempts, in milliseconds: the first, doubling up to the last. */
const retryMs = { first: 1000, max: 15_000 };

/**
 * Connects `client` in the background, trying again with backoff until it succeeds, so that the
 * gateway serves submissions while MongoDB is down and its reads once MongoDB is back. Once
 * connected, the driver rides out later outages itself; a first connect that fails leaves the
 * client closed for good (reads fail at once), which only another `connect()` mends.
 *
 * @returns stops trying; call before closing the client.
 */
export function keepConnecting(client: MongoClient, logger: Logger): () => void {
  const stopped = new AbortController();
  void (async () => {
    let delayMs = retryMs.first;
    for (let attempt = 1; !stopped.signal.aborted; attempt++) {
      try {
        await client.connect();
        if (attempt > 1) logger.info({ attempt }, "connected to MongoDB");
        return;
      } catch (err) {
        if (stopped.signal.aborted) return;
        logger.warn(
          { err, retryMs: delayMs },
          "could not connect to MongoDB; reads answer 503 until it can",
        );
        await sleep(delayMs, undefined, { signal: stopped.signal }).catch(() => undefined);
        delayMs = Math.min(retryMs.max, delayMs * 2);
      }
    }
  })();
  return () => {
    stopped.abort();
  };
}
