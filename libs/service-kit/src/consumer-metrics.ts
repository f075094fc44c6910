import type { JetStreamManager } from "@nats-io/jetstream";
import { Gauge } from "prom-client";
import type { Registry } from "prom-client";

import type { Logger } from "./logger.ts";
import { readForScrape } from "./metrics.ts";

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
  new Gauge({
    name: "conveyor_mailbox_messages",
    help: "Messages in a service's durable consumers, as the server counts them: pending (not delivered yet) or unacknowledged (delivered, not yet settled).",
    labelNames: ["stream", "consumer", "state"],
    registers: [registry],
    async collect() {
      try {
        const infos = await readForScrape(() =>
          Promise.all(mailboxes.map((m) => jsm.consumers.info(m.stream, m.consumer))),
        );
        // Set only once all are read: a scrape running meanwhile sees the last complete set.
        this.reset();
        mailboxes.forEach(({ stream, consumer }, i) => {
          const info = infos[i];
          if (info === undefined) return;
          this.set({ stream, consumer, state: "pending" }, info.num_pending);
          this.set({ stream, consumer, state: "unacknowledged" }, info.num_ack_pending);
        });
      } catch (err) {
        // The rest of the metrics are still worth serving; this gauge is left out of the scrape.
        this.reset();
        logger.warn({ err }, "could not read the mailboxes' consumers for metrics");
      }
    },
  });
}
