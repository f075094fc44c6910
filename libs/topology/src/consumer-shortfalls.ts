import type { ConsumerConfig } from "@nats-io/jetstream";

import type { ConsumerPlacement } from "./consumers.ts";

/**
 * What an existing core consumer lacks of this release's: the delivery limit it relies on. An
 * earlier release capped the intake's and the commands' deliveries at 60, where the server drops a
 * message without a trace; this release's dispatcher retries an outage for as long as it lasts.
 */
export function consumerShortfalls(
  { stream, config }: ConsumerPlacement,
  actual: Pick<ConsumerConfig, "max_deliver">,
): string[] {
  if (config.max_deliver === undefined || actual.max_deliver === config.max_deliver) return [];
  const name = `${stream}/${config.durable_name ?? ""}`;
  return [
    `max_deliver ${String(config.max_deliver)} of consumer ${name} (it has ${String(actual.max_deliver)})`,
  ];
}
