import { setTimeout as sleep } from "node:timers/promises";

import { DeliverPolicy, JetStreamApiCodes, JetStreamApiError, jetstream } from "@nats-io/jetstream";
import type { ConsumerMessages, JsMsg, PushConsumer } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";

import type { Logger } from "./logger.ts";
import { headersOrNone } from "./message-headers.ts";

/** One entry of a KV bucket as a watch reports it. */
export interface KvChange {
  key: string;
  /** The entry's revision (its sequence in the bucket's stream). */
  revision: number;
  /** `PUT`, or `DEL`/`PURGE` for a removed entry. */
  operation: "PUT" | "DEL" | "PURGE";
  /** The value; empty for a removal. */
  value: Uint8Array;
  /** When the server stored the entry, in epoch milliseconds. */
  storedAt: number;
}

/** What a {@link KvFollower} tells its owner. */
export interface KvFollowerHandlers {
  /**
   * Replaces the whole view with the bucket's entries (the latest of each key, removals
   * included) as they are when a watch opens: once at open and again after every reopen, so that
   * whatever changed while no watch ran (a bucket deleted and recreated, entries expired) is
   * forgotten.
   */
  reset(entries: readonly KvChange[]): void;
  /** One change after the last reset, in the bucket's order. */
  apply(change: KvChange): void;
}

/** Options of {@link KvFollower.open}. */
export interface KvFollowerOptions {
  logger: Logger;
  /** First pause before a watch that ended is opened again, in milliseconds; it doubles. @default 250 */
  firstRetryMs?: number;
  /** Longest pause between reopens, in milliseconds. @default 5000 */
  maxRetryMs?: number;
  /** How often the watch's consumer is checked to still exist, in milliseconds. @default 5000 */
  probeIntervalMs?: number;
}

const kvOperationHeader = "KV-Operation";

/**
 * Follows a KV bucket for as long as it is open. A watch that ends or fails (JetStream away for
 * long, the bucket deleted) is opened again with backoff and the view reset from it, because a
 * watch of nats.js stops for good, and silently, after 30 failed re-creations; and one that did
 * not stop would miss a recreated bucket's entries, whose revisions start again at 1.
 */
export class KvFollower {
  readonly #nc: NatsConnection;
  readonly #bucket: string;
  readonly #handlers: KvFollowerHandlers;
  readonly #logger: Logger;
  readonly #firstRetryMs: number;
  readonly #maxRetryMs: number;
  readonly #probeIntervalMs: number;
  readonly #closing = new AbortController();
  #messages: ConsumerMessages | undefined;
  #following: Promise<void> = Promise.resolve();

  private constructor(
    nc: NatsConnection,
    bucket: string,
    handlers: KvFollowerHandlers,
    options: KvFollowerOptions,
  ) {
    this.#nc = nc;
    this.#bucket = bucket;
    this.#handlers = handlers;
    this.#logger = options.logger.child({ bucket });
    this.#firstRetryMs = options.firstRetryMs ?? 250;
    this.#maxRetryMs = options.maxRetryMs ?? 5000;
    this.#probeIntervalMs = options.probeIntervalMs ?? 5000;
  }

  /**
   * Opens the first watch and resolves once its entries are reset into the view; rejects (and
   * follows nothing) when that first watch cannot be opened.
   */
  static async open(
    nc: NatsConnection,
    bucket: string,
    handlers: KvFollowerHandlers,
    options: KvFollowerOptions,
  ): Promise<KvFollower> {
    const follower = new KvFollower(nc, bucket, handlers, options);
    const loaded = Promise.withResolvers<undefined>();
    const first = follower.#watch(() => {
      loaded.resolve(undefined);
    });
    // A first watch that ends before its entries are in also ends `open`.
    first.then(
      () => {
        loaded.reject(new Error(`watch of KV bucket ${bucket} ended while loading`));
      },
      (err: unknown) => {
        loaded.reject(err);
      },
    );
    try {
      await loaded.promise;
    } catch (err) {
      await follower.close();
      throw err;
    }
    follower.#following = follower.#follow(first);
    return follower;
  }

  /** Stops following the bucket. */
  async close(): Promise<void> {
    this.#closing.abort();
    this.#messages?.stop();
    await this.#following;
  }

  async #follow(current: Promise<void>): Promise<void> {
    const closing = this.#closing.signal;
    let failures = 0;
    let watch = current;
    for (;;) {
      try {
        await watch;
        if (closing.aborted) return;
        this.#logger.warn("KV watch ended; opening it again");
      } catch (err) {
        if (closing.aborted) return;
        this.#logger.warn({ err }, "KV watch failed; opening it again");
      }
      failures++;
      const delayMs = Math.min(this.#maxRetryMs, this.#firstRetryMs * 2 ** (failures - 1));
      await sleep(delayMs, undefined, { signal: closing }).catch(() => undefined);
      if (closing.aborted) return;
      watch = this.#watch(() => {
        // A watch that got as far as loading was healthy: the next one starts with short pauses.
        failures = 0;
        this.#logger.info("KV watch open again; view reset");
      });
    }
  }

  /** Runs one watch until it ends; calls `onLoaded` once its stored entries are reset into the view. */
  async #watch(onLoaded: () => void): Promise<void> {
    const js = jetstream(this.#nc);
    const consumer = await js.consumers.getPushConsumer(`KV_${this.#bucket}`, {
      filter_subjects: `$KV.${this.#bucket}.>`,
      deliver_policy: DeliverPolicy.LastPerSubject,
    });
    const pending = (await consumer.info(true)).num_pending;
    const messages = await consumer.consume({ abort_on_missing_resource: true });
    this.#messages = messages;
    if (this.#closing.signal.aborted) messages.stop();
    let snapshot: KvChange[] | undefined = [];
    const flush = () => {
      if (snapshot === undefined) return;
      this.#handlers.reset(snapshot);
      snapshot = undefined;
      onLoaded();
    };
    if (pending === 0) flush();
    const probing = new AbortController();
    void this.#probe(consumer, messages, probing.signal);
    try {
      for await (const msg of messages) {
        const change = this.#toChange(msg);
        if (snapshot === undefined) {
          this.#handlers.apply(change);
          continue;
        }
        snapshot.push(change);
        if (msg.info.pending === 0) flush();
      }
    } finally {
      probing.abort();
    }
  }

  /**
   * Ends the watch when its consumer is gone. The server tells a push consumer nothing when its
   * stream is deleted, and nats.js notices only after two missed 30 s heartbeats.
   */
  async #probe(
    consumer: PushConsumer,
    messages: ConsumerMessages,
    signal: AbortSignal,
  ): Promise<void> {
    while (!signal.aborted) {
      await sleep(this.#probeIntervalMs, undefined, { signal }).catch(() => undefined);
      if (signal.aborted) return;
      try {
        await consumer.info();
      } catch (err) {
        if (err instanceof Error && isMissing(err)) messages.stop(err);
        // Anything else (JetStream unavailable for now) the ordered consumer rides out itself.
      }
    }
  }

  #toChange(msg: JsMsg): KvChange {
    // Headers another client wrote that nats.js cannot read (a name with a space) would throw
    // here and end every watch: such an entry is read as a value, whose consumer judges it.
    const operation = headersOrNone(msg)?.get(kvOperationHeader);
    return {
      key: msg.subject.slice(`$KV.${this.#bucket}.`.length),
      revision: msg.seq,
      operation: operation === "DEL" || operation === "PURGE" ? operation : "PUT",
      value: msg.data,
      storedAt: Math.floor(msg.info.timestampNanos / 1e6),
    };
  }
}

function isMissing(err: Error): boolean {
  return (
    err instanceof JetStreamApiError &&
    (err.code === JetStreamApiCodes.StreamNotFound ||
      err.code === JetStreamApiCodes.ConsumerNotFound)
  );
}
