import { KvBucket } from "@conveyor/contracts";
import type { Logger } from "@conveyor/service-kit";
import { JetStreamApiCodes, JetStreamApiError } from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";
import type { KvWatchEntry } from "@nats-io/kv";
import type { NatsConnection, QueuedIterator } from "@nats-io/transport-node";

import { CancellationView } from "./cancellation-view.ts";
import { CancellationsUnavailableError } from "./errors.ts";

/** Longest `open` waits for the bucket's current entries before it goes on, in milliseconds. */
const initialLoadTimeoutMs = 10_000;

/**
 * Follows the `conveyor-cancellations` bucket with a KV watch (an ordered consumer that resumes by
 * itself after reconnects) and keeps a {@link CancellationView} of it. Every worker replica runs
 * one, so a cancel reaches the replica that runs the job, whichever it is.
 */
export class CancellationWatch {
  readonly view: CancellationView;
  readonly #watch: QueuedIterator<KvWatchEntry>;
  readonly #following: Promise<void>;

  private constructor(
    view: CancellationView,
    watch: QueuedIterator<KvWatchEntry>,
    following: Promise<void>,
  ) {
    this.view = view;
    this.#watch = watch;
    this.#following = following;
  }

  /**
   * Opens the bucket and resolves once the entries stored now are in the view, so that a worker
   * never starts a job that was cancelled before it started. Throws a
   * {@link CancellationsUnavailableError} when the bucket has not been provisioned.
   */
  static async open(nc: NatsConnection, logger: Logger): Promise<CancellationWatch> {
    const log = logger.child({ bucket: KvBucket.Cancellations });
    const kv = await new Kvm(nc).open(KvBucket.Cancellations);
    let stored: number;
    try {
      stored = (await kv.status()).values;
    } catch (err) {
      if (err instanceof JetStreamApiError && err.code === JetStreamApiCodes.StreamNotFound) {
        throw new CancellationsUnavailableError(KvBucket.Cancellations, { cause: err });
      }
      throw err;
    }
    const view = new CancellationView((change, err) => {
      log.warn({ err, key: change.key, revision: change.revision }, "ignoring unreadable entry");
    });
    const loaded = Promise.withResolvers<undefined>();
    if (stored === 0) loaded.resolve(undefined);
    const watch = await kv.watch();
    const following = (async () => {
      try {
        for await (const entry of watch) {
          view.apply({
            key: entry.key,
            revision: entry.revision,
            operation: entry.operation,
            value: entry.operation === "PUT" ? entry.string() : "",
          });
          // The last stored entry comes with nothing pending after it (or marked as an update).
          if (entry.isUpdate || entry.delta === 0) loaded.resolve(undefined);
        }
      } catch (err) {
        log.error({ err }, "cancellations watch failed; cancels no longer reach this worker");
      } finally {
        loaded.resolve(undefined);
      }
    })();
    await waitAtMost(loaded.promise, initialLoadTimeoutMs, () => {
      log.warn({ known: view.size }, "cancellations not fully loaded in time; going on");
    });
    return new CancellationWatch(view, watch, following);
  }

  /** Stops following the bucket. */
  async close(): Promise<void> {
    this.#watch.stop();
    await this.#following;
  }
}

async function waitAtMost(
  promise: Promise<unknown>,
  timeoutMs: number,
  onTimeout: () => void,
): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<void>((resolve) => {
    timer = setTimeout(() => {
      onTimeout();
      resolve();
    }, timeoutMs);
  });
  await Promise.race([promise, expired]);
  clearTimeout(timer);
}
