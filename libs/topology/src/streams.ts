import { StreamName, Subject } from "@conveyor/contracts";
import { DiscardPolicy, RetentionPolicy, StorageType } from "@nats-io/jetstream";
import type { StreamConfig } from "@nats-io/jetstream";
import { nanos } from "@nats-io/transport-node";

import { dayMs, minuteMs, resolveTopologyOptions } from "./options.ts";
import type { ResolvedTopologyOptions } from "./options.ts";

/** The parts of a stream's configuration Conveyor decides; the server fills in the rest. */
export type StreamSpec = Pick<
  StreamConfig,
  | "name"
  | "subjects"
  | "retention"
  | "storage"
  | "max_age"
  | "duplicate_window"
  | "num_replicas"
  | "discard"
  | "allow_direct"
  | "allow_batched"
>;

/** The five streams, in the order they are created. */
export function streamSpecs(options: ResolvedTopologyOptions): StreamSpec[] {
  const base = {
    storage: StorageType.File,
    num_replicas: options.replicas,
    discard: DiscardPolicy.Old,
    allow_direct: false,
  } as const;
  return [
    {
      ...base,
      name: StreamName.Jobs,
      subjects: [Subject.submitAll, Subject.submitBulkAll, Subject.commandAll],
      retention: RetentionPolicy.Limits,
      max_age: nanos(options.jobsMaxAgeMs),
      duplicate_window: nanos(options.jobsDuplicateWindowMs),
    },
    {
      ...base,
      name: StreamName.Work,
      subjects: [Subject.workAll],
      retention: RetentionPolicy.Workqueue,
      // Work is removed when acknowledged; nothing ages out, so no job is lost to a long backlog.
      max_age: 0,
      duplicate_window: nanos(options.workDuplicateWindowMs),
      // The dispatcher's work items of one turn are stored as one fast-ingest batch.
      allow_batched: true,
    },
    {
      ...base,
      name: StreamName.Events,
      subjects: [Subject.eventsAll],
      retention: RetentionPolicy.Limits,
      max_age: nanos(options.eventsMaxAgeMs),
      duplicate_window: nanos(2 * minuteMs),
      // The gateway reads a job that is not projected yet with one direct get of its last events.
      allow_direct: true,
      // The events a service sends in one turn are stored as one fast-ingest batch.
      allow_batched: true,
    },
    {
      ...base,
      name: StreamName.Dlq,
      subjects: [Subject.dlqAll, Subject.deadLetterLogAll],
      retention: RetentionPolicy.Limits,
      max_age: nanos(30 * dayMs),
      duplicate_window: nanos(2 * minuteMs),
    },
    {
      ...base,
      name: StreamName.Advisories,
      subjects: [
        Subject.maxDeliveriesAdvisories(StreamName.Work),
        Subject.terminatedAdvisories(StreamName.Work),
      ],
      retention: RetentionPolicy.Limits,
      max_age: nanos(7 * dayMs),
      duplicate_window: nanos(2 * minuteMs),
    },
  ];
}

/**
 * The stream `subject` is stored in when that stream takes fast-ingest batches (`allow_batched`:
 * `WORK` and `EVENTS`), for `JetStreamPublisher`'s `batchStreamOf`; undefined for the others.
 * (The other streams leave `allow_batched` out rather than `false`: the server reports it so.)
 */
export function batchedStreamOf(subject: string): string | undefined {
  for (const [prefix, stream] of batchedPrefixes) if (subject.startsWith(prefix)) return stream;
  return undefined;
}

/** `[subject prefix, stream]` of the streams that take batches, from their specs. */
const batchedPrefixes: readonly (readonly [string, string])[] = streamSpecs(
  resolveTopologyOptions(),
)
  .filter((spec) => spec.allow_batched === true)
  .flatMap((spec) =>
    (spec.subjects ?? []).map((pattern) => [pattern.replace(/>$/, ""), spec.name] as const),
  );
