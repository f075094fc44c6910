import { KvBucket } from "@conveyor/contracts";
import type { JetStreamManager } from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";

import type { ReconcileOutcome } from "./reconcile.ts";
import { streamInfo } from "./reconcile.ts";

/** The stream that backs a KV bucket (the KV convention). */
export function kvStreamName(bucket: string): string {
  return `KV_${bucket}`;
}

/**
 * Creates the job-types bucket with one revision per key (the registry keeps only the current
 * descriptor of each type), or brings an existing bucket's history and replicas in line.
 */
export async function ensureJobTypesBucket(
  jsm: JetStreamManager,
  replicas: number,
): Promise<ReconcileOutcome> {
  const name = kvStreamName(KvBucket.JobTypes);
  const existing = await streamInfo(jsm, name);
  if (!existing) {
    await new Kvm(jsm.jetstream()).create(KvBucket.JobTypes, { history: 1, replicas });
    return "created";
  }
  const { max_msgs_per_subject, num_replicas } = existing.config;
  if (max_msgs_per_subject === 1 && num_replicas === replicas) return "unchanged";
  await jsm.streams.update(name, { max_msgs_per_subject: 1, num_replicas: replicas });
  return "updated";
}
