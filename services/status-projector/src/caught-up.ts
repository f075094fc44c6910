import { StreamName } from "@conveyor/contracts";
import type { Logger } from "@conveyor/service-kit";
import type { JetStreamManager } from "@nats-io/jetstream";

/**
 * Events still to be delivered to the projector's consumer below which it counts as caught up:
 * a few seconds of a busy system's events, far below the week of events a rebuild starts with.
 */
export const caughtUpPendingEvents = 10_000;

/**
 * Whether the projector's events consumer has fewer than {@link caughtUpPendingEvents} events
 * left to deliver. When NATS does not answer, true: the projector gets no events then either, and
 * retention must not stop with it.
 */
export async function caughtUpWith(
  jsm: JetStreamManager,
  consumer: string,
  logger: Logger,
): Promise<boolean> {
  try {
    const info = await jsm.consumers.info(StreamName.Events, consumer);
    return info.num_pending < caughtUpPendingEvents;
  } catch (err) {
    logger.debug({ err }, "could not ask how far behind the projector is; sweeping");
    return true;
  }
}
