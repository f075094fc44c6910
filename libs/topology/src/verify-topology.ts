import type { JetStreamManager } from "@nats-io/jetstream";

import { consumerShortfalls } from "./consumer-shortfalls.ts";
import { coreConsumers } from "./consumers.ts";
import { TopologyError } from "./errors.ts";
import { bucketSpecs, kvStreamName } from "./kv-buckets.ts";
import { resolveTopologyOptions } from "./options.ts";
import { consumerInfo, streamInfo } from "./reconcile.ts";
import { streamShortfalls } from "./stream-shortfalls.ts";
import { streamSpecs } from "./streams.ts";

/**
 * Checks that every stream, core consumer and KV bucket exist, that each stream captures the
 * subjects this release uses and each core consumer has the delivery limit it relies on, and throws a {@link TopologyError} naming each thing missing. Services call it at start instead of creating
 * the topology themselves (provisioning holds the JetStream API rights; services do not).
 */
export async function verifyTopology(jsm: JetStreamManager): Promise<void> {
  const missing: string[] = [];
  const present = new Set<string>();
  for (const spec of streamSpecs(resolveTopologyOptions())) {
    const info = await streamInfo(jsm, spec.name);
    if (info === undefined) {
      missing.push(`stream ${spec.name}`);
      continue;
    }
    present.add(spec.name);
    missing.push(...streamShortfalls(spec, info.config));
  }
  for (const placement of coreConsumers()) {
    const { stream, config } = placement;
    const durable = config.durable_name ?? "";
    // A missing stream already explains its missing consumers.
    if (!present.has(stream)) continue;
    const info = await consumerInfo(jsm, stream, durable);
    if (info === undefined) missing.push(`consumer ${stream}/${durable}`);
    else missing.push(...consumerShortfalls(placement, info.config));
  }
  for (const { name } of bucketSpecs) {
    const info = await streamInfo(jsm, kvStreamName(name));
    if (info === undefined) missing.push(`kv bucket ${name}`);
    // Services read buckets with direct gets (the permissions docs/topology.md lists).
    else if (!info.config.allow_direct) missing.push(`allow_direct of kv bucket ${name}`);
  }
  if (missing.length > 0) throw new TopologyError(missing);
}
