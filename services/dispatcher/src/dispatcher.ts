import { ConsumerName, StreamName } from "@conveyor/contracts";
import type { JobTypeLookup } from "@conveyor/job-registry";
import type { Logger } from "@conveyor/service-kit";
import type { Tracing } from "@conveyor/telemetry";
import type { JetStreamClient, JsMsg } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";

import { processSubmission } from "./intake.ts";
import type { IntakeDeps } from "./intake.ts";
import { DispatchPublisher } from "./publisher.ts";
import { PullLoop } from "./pull-loop.ts";
import { retryDelayMs } from "./retry-delay.ts";

export interface DispatcherOptions {
  /** Largest submission accepted, in bytes; larger ones are recorded as `too_large` rejections. */
  maxSubmissionBytes: number;
  /** Intake messages processed at once. */
  concurrency: number;
  /** How long one pull waits for messages, in milliseconds (bounds how long `stop` waits). @default 1000 */
  pullExpiresMs?: number;
}

export interface DispatcherDeps {
  nc: NatsConnection;
  js: JetStreamClient;
  /** The registered job types: a `JobTypeRegistry`. */
  registry: JobTypeLookup;
  tracing: Tracing;
  logger: Logger;
  options: DispatcherOptions;
}

export interface Dispatcher {
  /** Stops pulling, finishes the submissions in flight (acknowledging each), then resolves. */
  stop(): Promise<void>;
}

/**
 * Starts consuming the intake (`dispatcher-intake` on `JOBS`): each valid submission becomes a
 * work item and a `queued` event, each invalid one a `rejected` event; the intake message is
 * acknowledged only after the server stored what it produced. When publishing fails (NATS away),
 * the message is nak'd with a growing delay and tried again.
 */
export async function createDispatcher(deps: DispatcherDeps): Promise<Dispatcher> {
  const { js, logger, options } = deps;
  const consumer = await js.consumers.get(StreamName.Jobs, ConsumerName.DispatcherIntake);
  const intake: IntakeDeps = {
    registry: deps.registry,
    publisher: new DispatchPublisher(js, deps.tracing),
    tracing: deps.tracing,
    maxSubmissionBytes: options.maxSubmissionBytes,
    now: () => new Date(),
  };

  const handle = async (msg: JsMsg): Promise<void> => {
    try {
      const outcome = await processSubmission(msg, intake);
      msg.ack();
      if (outcome.kind === "queued") {
        logger.debug({ jobId: outcome.jobId, type: outcome.type }, "job queued");
      } else {
        logger.info(
          { rejectionId: outcome.rejectionId, reason: outcome.reason, subject: msg.subject },
          "submission rejected",
        );
      }
    } catch (err) {
      const delayMs = retryDelayMs(msg.info.deliveryCount);
      logger.warn(
        { err, subject: msg.subject, seq: msg.seq, delayMs },
        "dispatch failed; the submission will be retried",
      );
      msg.nak(delayMs);
    }
  };

  const loop = new PullLoop(consumer, handle, logger, {
    concurrency: options.concurrency,
    pullExpiresMs: options.pullExpiresMs,
  });
  loop.start();
  logger.info({ concurrency: options.concurrency }, "dispatcher consuming intake");
  return { stop: () => loop.stop() };
}
