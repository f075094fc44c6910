import type { JetStreamPublisher } from "@conveyor/service-kit";

import type { NatsLink } from "./nats-link.ts";

/** How the gateway sends to JetStream: one per app. */
export interface NatsOut {
  /** Whether NATS is connected: nothing is sent while it is not. */
  link: NatsLink;
  /** Publishes and resolves with the PubAck; pipelined, so concurrent requests share writes. */
  publisher: JetStreamPublisher;
}
