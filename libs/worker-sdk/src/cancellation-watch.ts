import { KvBucket } from "@conveyor/contracts";
import { KvFollower, waitAtMost } from "@conveyor/service-kit";
import type { KvChange, Logger } from "@conveyor/service-kit";
import { JetStreamApiCodes, JetStreamApiError } from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";
import type { NatsConnection } from "@nats-io/transport-node";

import { CancellationView } from "./cancellation-view.ts";
import type { CancellationChange } from "./cancellation-view.ts";
import { CancellationsUnavailableError } from "./errors.ts";

/** Longest `open` waits for the bucket's current entries before it goes on, in milliseconds. */
const initialLoadTimeoutMs = 10_000;

const decoder = new TextDecoder();

/**
 * Follows the `conveyor-cancellations` bucket and keeps a {@link CancellationView} of it. The
 * watch is reopened with backoff whenever it ends (JetStream away for long, the bucket recreated)
 * and the view reset from it, so cancels keep reaching the worker. Every worker replica runs one,
 * so a cancel reaches the replica that runs the job, whichever it is.
 */
export class CancellationWatch {
  readonly view: CancellationView;
  readonly #follower: Promise<KvFollower | undefined>;

  private constructor(view: CancellationView, follower: Promise<KvFollower | undefined>) {
    this.view = view;
    this.#follower = follower;
  }

  /**
   * Opens the bucket and resolves once the entries stored now are in the view (or after
   * 10 s, while loading goes on), so that a worker never starts a job that was cancelled before
   * it started. Throws a {@link CancellationsUnavailableError} when the bucket has not been
   * provisioned.
   */
  static async open(nc: NatsConnection, logger: Logger): Promise<CancellationWatch> {
    const log = logger.child({ bucket: KvBucket.Cancellations });
    const kv = await new Kvm(nc).open(KvBucket.Cancellations);
    let maxAgeMs: number;
    try {
      maxAgeMs = (await kv.status()).ttl;
    } catch (err) {
      if (err instanceof JetStreamApiError && err.code === JetStreamApiCodes.StreamNotFound) {
        throw new CancellationsUnavailableError(KvBucket.Cancellations, { cause: err });
      }
      throw err;
    }
    const view = new CancellationView({
      maxAgeMs,
      onUnreadable: (change, err) => {
        log.warn({ err, key: change.key, revision: change.revision }, "ignoring unreadable entry");
      },
    });
    const follower = KvFollower.open(
      nc,
      KvBucket.Cancellations,
      {
        reset: (entries) => {
          view.reset(entries.map(toCancellationChange));
        },
        apply: (entry) => {
          view.apply(toCancellationChange(entry));
        },
      },
      { logger },
    );
    let waited = false;
    const settled = follower.then(
      (f) => f,
      (err: unknown) => {
        // Before the wait is over the error fails the worker's start instead.
        if (!waited) throw err;
        log.error({ err }, "cancellations watch could not be opened; cancels miss this worker");
        return undefined;
      },
    );
    await waitAtMost(settled, initialLoadTimeoutMs, () => {
      log.warn({ known: view.size }, "cancellations not fully loaded in time; going on");
    });
    waited = true;
    return new CancellationWatch(view, settled);
  }

  /** Stops following the bucket. */
  async close(): Promise<void> {
    await (await this.#follower.catch(() => undefined))?.close();
  }
}

function toCancellationChange(entry: KvChange): CancellationChange {
  return {
    key: entry.key,
    revision: entry.revision,
    operation: entry.operation,
    value: entry.operation === "PUT" ? decoder.decode(entry.value) : "",
    storedAt: entry.storedAt,
  };
}
