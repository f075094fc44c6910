import { StreamName, workConsumerName } from "@conveyor/contracts";
import type { Logger } from "@conveyor/service-kit";
import { JetStreamApiCodes, JetStreamApiError } from "@nats-io/jetstream";
import type { JetStreamManager } from "@nats-io/jetstream";

/**
 * The lease (`ack_wait`, in milliseconds) to give a type's work consumer: this worker's, unless
 * the consumer already has a longer one. Every replica of a type shares the consumer but renews
 * its jobs' leases by its own `ackWaitMs`, so shortening the lease in force would let replicas
 * still renewing less often (a rolling deploy, another app serving the type) lose the leases of
 * jobs they are running: those would be delivered again while still running. A longer lease is
 * safe for every replica, so it is kept, and shortening it takes an operator (docs/worker-sdk.md).
 */
export async function leaseInForce(
  jsm: JetStreamManager,
  type: string,
  ackWaitMs: number,
  logger: Logger,
): Promise<number> {
  const name = workConsumerName(type);
  let current: number;
  try {
    const { ack_wait: nanos = 0 } = (await jsm.consumers.info(StreamName.Work, name)).config;
    current = nanos / 1_000_000;
  } catch (err) {
    if (err instanceof JetStreamApiError && err.code === JetStreamApiCodes.ConsumerNotFound) {
      return ackWaitMs;
    }
    throw err;
  }
  if (current <= ackWaitMs) return ackWaitMs;
  logger.info(
    { type, consumer: name, ackWaitMs: current, ownAckWaitMs: ackWaitMs },
    "the type's work consumer keeps its longer lease: other replicas may rely on it",
  );
  return current;
}
