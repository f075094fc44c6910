import { JetStreamApiError } from "@nats-io/jetstream";
import { NoRespondersError, RequestError, TimeoutError } from "@nats-io/transport-node";

/**
 * What JetStream answers while it starts: no answer in time, nothing subscribed to its API (the
 * server not up, or JetStream not enabled yet: nats.js reports that as `JetStreamNotEnabled`,
 * whose class it does not export), or "temporarily unavailable" while its cluster elects a leader.
 */
export function notAnsweringYet(err: unknown): boolean {
  if (err instanceof TimeoutError || err instanceof NoRespondersError) return true;
  if (err instanceof RequestError && err.isNoResponders()) return true;
  if (err instanceof Error && err.name === "JetStreamNotEnabled") return true;
  return err instanceof JetStreamApiError && err.code === jetStreamTemporarilyUnavailable;
}

/** JetStream's API error "JetStream system temporarily unavailable". */
const jetStreamTemporarilyUnavailable = 10008;
