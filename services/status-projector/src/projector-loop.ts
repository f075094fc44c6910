import { setTimeout as sleep } from "node:timers/promises";

import type { JobEvent, RejectedEvent } from "@conveyor/contracts";
import type { Consumer, ConsumerMessages, JsMsg } from "@nats-io/jetstream";

import { batches } from "./batches.ts";
import { decodeEvent } from "./decode-event.ts";
import type { ProjectorDeps } from "./deps.ts";
import type { ResolvedProjectorOptions } from "./options.ts";
import { projectEvents } from "./project-events.ts";
import type { ProjectionResult } from "./project-events.ts";
import { retryUntilAborted } from "./retry.ts";

/** Delay before consuming again after the event subscription failed, in milliseconds. */
const resubscribeDelayMs = 1000;

/** The projector's mailbox loop: one batch at a time, from pull to acknowledgement. */
export class ProjectorLoop {
  readonly #consumer: Consumer;
  readonly #deps: ProjectorDeps;
  readonly #options: ResolvedProjectorOptions;
  readonly #leaseRenewMs: number;
  readonly #abort = new AbortController();
  #messages: ConsumerMessages | undefined;

  constructor(
    consumer: Consumer,
    deps: ProjectorDeps,
    options: ResolvedProjectorOptions,
    leaseRenewMs: number,
  ) {
    this.#consumer = consumer;
    this.#deps = deps;
    this.#options = options;
    this.#leaseRenewMs = leaseRenewMs;
  }

  /** Consumes until stopped; a failed subscription is logged and started again. */
  async run(): Promise<void> {
    const signal = this.#abort.signal;
    while (!signal.aborted) {
      try {
        await this.#consume();
      } catch (err) {
        if (signal.aborted) break;
        this.#deps.logger.error({ err }, "consuming events failed, subscribing again");
      }
      if (signal.aborted) break;
      await sleep(resubscribeDelayMs, undefined, { signal }).catch(() => undefined);
    }
  }

  stop(): void {
    this.#abort.abort(new Error("projector stopping"));
    this.#messages?.stop();
  }

  async #consume(): Promise<void> {
    const { batchSize, batchLingerMs } = this.#options;
    const messages = await this.#consumer.consume({ max_messages: batchSize });
    this.#messages = messages;
    try {
      if (this.#abort.signal.aborted) return;
      for await (const batch of batches(messages, batchSize, batchLingerMs)) {
        await this.#handle(batch);
      }
    } finally {
      // Messages of an abandoned subscription are redelivered to the next one after the ack wait.
      messages.stop();
    }
  }

  async #handle(batch: JsMsg[]): Promise<void> {
    const { logger, tracing } = this.#deps;
    const { jobEvents, rejections } = this.#decode(batch);
    const first = batch[0];
    const firstJob = jobEvents[0];
    let result: ProjectionResult;
    try {
      result = await tracing.consume(
        first?.headers,
        { subject: first?.subject ?? "events", jobId: firstJob?.jobId, jobType: firstJob?.type },
        () => this.#store(batch, jobEvents, rejections),
      );
    } catch (err) {
      // Stopped while MongoDB was down: hand the batch back now rather than after the ack wait.
      for (const msg of batch) msg.nak();
      throw err;
    }
    for (const refused of result.refused) {
      logger.error(refused, "document could not be stored, its events are skipped");
    }
    for (const msg of batch) msg.ack();
    const { jobsWritten, rejectionsWritten } = result;
    logger.debug({ events: batch.length, jobsWritten, rejectionsWritten }, "batch projected");
  }

  /** Sorts a batch into lifecycle events and rejections; invalid events are logged and dropped. */
  #decode(batch: readonly JsMsg[]): { jobEvents: JobEvent[]; rejections: RejectedEvent[] } {
    const jobEvents: JobEvent[] = [];
    const rejections: RejectedEvent[] = [];
    for (const msg of batch) {
      const decoded = decodeEvent(msg.subject, msg.data);
      if (decoded.type === "job") jobEvents.push(decoded.event);
      else if (decoded.type === "rejection") rejections.push(decoded.event);
      else {
        const { reason, issues } = decoded;
        this.#deps.logger.warn(
          { subject: msg.subject, streamSeq: msg.seq, reason, issues },
          "invalid event skipped",
        );
      }
    }
    return { jobEvents, rejections };
  }

  /** Stores a batch, retrying while MongoDB is unavailable and keeping the messages leased. */
  async #store(
    batch: readonly JsMsg[],
    jobEvents: readonly JobEvent[],
    rejections: readonly RejectedEvent[],
  ): Promise<ProjectionResult> {
    const renew = setInterval(() => {
      for (const msg of batch) msg.working();
    }, this.#leaseRenewMs);
    try {
      return await retryUntilAborted(() => projectEvents(this.#deps.db, jobEvents, rejections), {
        initialDelayMs: this.#options.retryInitialDelayMs,
        maxDelayMs: this.#options.retryMaxDelayMs,
        attemptTimeoutMs: this.#options.storeTimeoutMs,
        signal: this.#abort.signal,
        onError: (err, attempt, delayMs) => {
          this.#deps.logger.warn({ err, attempt, delayMs }, "storing a batch failed, retrying");
        },
      });
    } finally {
      clearInterval(renew);
    }
  }
}
