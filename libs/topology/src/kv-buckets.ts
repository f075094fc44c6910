import { KvBucket } from "@conveyor/contracts";
import type { JetStreamManager } from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";
import { nanos } from "@nats-io/transport-node";

import { dayMs } from "./options.ts";
import type { ReconcileOutcome } from "./reconcile.ts";
import { streamInfo } from "./reconcile.ts";

/** What Conveyor decides about one KV bucket. */
export interface BucketSpec {
  name: string;
  /** Revisions kept per key. */
  history: number;
  /** How long an entry is kept, in milliseconds; 0 keeps entries until they are replaced. */
  maxAgeMs: number;
}

/** The KV buckets, in the order they are created. */
export const bucketSpecs: readonly BucketSpec[] = [
  // The registry keeps only the current descriptor of each type, forever.
  { name: KvBucket.JobTypes, history: 1, maxAgeMs: 0 },
  // A cancel matters while the job can still be delivered; a week covers any retry schedule.
  { name: KvBucket.Cancellations, history: 1, maxAgeMs: 7 * dayMs },
  // A schedule's latest run, kept longer than a yearly schedule's runs are apart; a deleted
  // schedule's record written by a tick that raced the delete ages out.
  { name: KvBucket.ScheduleRuns, history: 1, maxAgeMs: 400 * dayMs },
  // A rate limit's window is at most an hour: its count is needed until the window has passed.
  { name: KvBucket.RateLimits, history: 1, maxAgeMs: 2 * 60 * 60_000 },
];

/** The stream that backs a KV bucket (the KV convention). */
export function kvStreamName(bucket: string): string {
  return `KV_${bucket}`;
}

/**
 * Creates a bucket, or brings an existing bucket's history, max age, replicas and direct gets in
 * line (its entries are kept).
 */
export async function ensureBucket(
  jsm: JetStreamManager,
  spec: BucketSpec,
  replicas: number,
): Promise<ReconcileOutcome> {
  const name = kvStreamName(spec.name);
  const existing = await streamInfo(jsm, name);
  if (!existing) {
    await new Kvm(jsm.jetstream()).create(spec.name, {
      history: spec.history,
      replicas,
      ttl: spec.maxAgeMs,
      allow_direct: true,
    });
    return "created";
  }
  const wanted = {
    max_msgs_per_subject: spec.history,
    num_replicas: replicas,
    max_age: nanos(spec.maxAgeMs),
    // Services read entries with direct gets.
    allow_direct: true,
  };
  const { max_msgs_per_subject, num_replicas, max_age, allow_direct } = existing.config;
  if (
    max_msgs_per_subject === wanted.max_msgs_per_subject &&
    num_replicas === wanted.num_replicas &&
    max_age === wanted.max_age &&
    allow_direct
  ) {
    return "unchanged";
  }
  await jsm.streams.update(name, wanted);
  return "updated";
}
