import type { Logger } from "@conveyor/service-kit";
import type { Consumer, JsMsg } from "@nats-io/jetstream";

import { BatchPullLoop } from "./batch-pull-loop.ts";

export interface PullLoopOptions {
  /** Most messages held (pulled and not yet handled) at once. */
  concurrency: number;
  /** How long one pull waits for messages, in milliseconds; also bounds how long `stop` waits for it. @default 1000 */
  pullExpiresMs?: number;
  /** Pause after a failed pull (NATS away, consumer missing), in milliseconds. @default 1000 */
  retryPauseMs?: number;
}

/**
 * Pulls messages from a durable consumer and runs `handle` on each, up to `concurrency` at once: a
 * {@link BatchPullLoop} whose batches are handled message by message, for mailboxes where each
 * message is its own piece of work (commands, advisories).
 */
export class PullLoop {
  readonly #loop: BatchPullLoop<JsMsg>;

  constructor(
    consumer: Consumer,
    handle: (msg: JsMsg) => Promise<void>,
    logger: Logger,
    options: PullLoopOptions,
  ) {
    const handleOne = (msg: JsMsg) =>
      handle(msg).catch((err: unknown) => {
        logger.error({ err, subject: msg.subject, seq: msg.seq }, "message handler threw");
      });
    // One by one: a command waiting for its job's earlier one, or an advisory for a slow DLQ,
    // keeps only its own slot, not those of the messages that arrived with it.
    this.#loop = new BatchPullLoop(
      consumer,
      async (batch) => {
        await Promise.all(batch.map(handleOne));
      },
      logger,
      {
        maxHeld: options.concurrency,
        pullExpiresMs: options.pullExpiresMs,
        retryPauseMs: options.retryPauseMs,
        oneByOne: true,
      },
    );
  }

  start(): void {
    this.#loop.start();
  }

  /** Stops pulling, lets the current pull end, and resolves when every message it got is handled. */
  stop(): Promise<void> {
    return this.#loop.stop();
  }
}
