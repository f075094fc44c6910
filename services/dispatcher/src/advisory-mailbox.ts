import { StreamName } from "@conveyor/contracts";
import type { Logger } from "@conveyor/service-kit";
import type { JsMsg } from "@nats-io/jetstream";

import type { ExhaustedWork } from "./exhausted-work.ts";
import { parseMaxDeliveriesAdvisory } from "./max-deliveries-advisory.ts";
import { retryDelayMs } from "./retry-delay.ts";

export interface AdvisoryMailboxDeps {
  exhausted: ExhaustedWork;
  logger: Logger;
}

/**
 * Handles one captured max-deliveries advisory from `dispatcher-advisories`: the work message it
 * names is dead-lettered (or found gone), then the advisory is acknowledged. When that fails the
 * advisory is nak'd with a growing delay, so the dead letter is never lost. A malformed advisory
 * is logged with its fields named and acknowledged; retrying it could never succeed.
 */
export async function handleAdvisory(msg: JsMsg, deps: AdvisoryMailboxDeps): Promise<void> {
  const { logger } = deps;
  const parsed = parseMaxDeliveriesAdvisory(msg.data);
  if (!parsed.ok) {
    logger.error({ subject: msg.subject, seq: msg.seq, issues: parsed.issues }, parsed.message);
    msg.ack();
    return;
  }
  const { advisory } = parsed;
  if (advisory.stream !== StreamName.Work) {
    logger.warn({ advisory }, "max-deliveries advisory about another stream; ignored");
    msg.ack();
    return;
  }
  try {
    const capturedAt = new Date(Math.floor(msg.info.timestampNanos / 1_000_000));
    const outcome = await deps.exhausted.deadLetter(
      advisory.stream_seq,
      advisory.deliveries,
      "advisory",
      { consumer: advisory.consumer, capturedAt },
    );
    msg.ack();
    if (outcome.kind === "gone") {
      logger.debug({ advisory }, "work message already settled; nothing to dead-letter");
    } else if (outcome.kind === "unrelated") {
      logger.warn(
        { advisory, why: outcome.why },
        "max-deliveries advisory does not describe the work message at its sequence; ignored",
      );
    } else {
      logger.warn(
        {
          jobId: outcome.jobId,
          type: outcome.type,
          seq: outcome.seq,
          deliveries: advisory.deliveries,
        },
        "job dead-lettered: max deliveries reached",
      );
    }
  } catch (err) {
    const delayMs = retryDelayMs(msg.info.deliveryCount);
    logger.warn({ err, advisory, delayMs }, "dead-lettering failed; the advisory will be retried");
    msg.nak(delayMs);
  }
}
