import type { JetStreamManager } from "@nats-io/jetstream";
import type { Registry } from "prom-client";

import type { Logger } from "./logger.ts";
import { registerScrapedGauge } from "./scraped-gauge.ts";

/** A durable consumer a service reads as its mailbox. */
export interface Mailbox {
  stream: string;
  consumer: string;
}

/**
 * Reports what a service's mailboxes hold, read from the server at every scrape, as
 * `conveyor_mailbox_messages{stream, consumer, state}`: `pending` (not delivered yet: the backlog)
 * and `unacknowledged` (delivered and not yet settled). The backlog lives in JetStream, so this is
 * the same whichever replica is asked.
 */
export function registerMailboxMetrics(
  registry: Registry,
  jsm: JetStreamManager,
  mailboxes: readonly Mailbox[],
  logger: Logger,
): void {
  registerScrapedGauge(registry, logger, {
    name: "conveyor_mailbox_messages",
    help: "Messages in a service's durable consumers, as the server counts them: pending (not delivered yet) or unacknowledged (delivered, not yet settled).",
    labelNames: ["stream", "consumer", "state"],
    what: "the mailboxes' consumers",
    read: async () => {
      const infos = await Promise.all(
        mailboxes.map(({ stream, consumer }) => jsm.consumers.info(stream, consumer)),
      );
      return infos.flatMap(({ stream_name: stream, name: consumer, ...info }) => [
        { labels: { stream, consumer, state: "pending" }, value: info.num_pending },
        { labels: { stream, consumer, state: "unacknowledged" }, value: info.num_ack_pending },
      ]);
    },
  });
}
