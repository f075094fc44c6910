import type { StreamConfig } from "@nats-io/jetstream";

import type { StreamSpec } from "./streams.ts";

/**
 * What an existing stream lacks that this release's services need, named as a `TopologyError`
 * names what is missing: each subject the spec has that the stream does not capture (a stream
 * provisioned by an older release: its consumers would be created, and never see a message), and
 * direct gets when the spec allows them (the gateway reads a job's events with them), and message
 * schedules when the spec has them (scheduled jobs are held with them).
 */
export function streamShortfalls(spec: StreamSpec, config: StreamConfig): string[] {
  const shortfalls = uncaptured(spec, config).map(
    (subject) => `subject ${subject} of stream ${spec.name}`,
  );
  if (spec.allow_direct && !config.allow_direct) {
    shortfalls.push(`allow_direct of stream ${spec.name}`);
  }
  if (spec.allow_msg_schedules && !config.allow_msg_schedules) {
    // A server before 2.12 leaves the setting out: scheduled jobs would never be queued.
    shortfalls.push(`allow_msg_schedules of stream ${spec.name} (nats-server 2.12 or later)`);
  }
  return shortfalls;
}

/** The stream's configuration with what it lacks added, and everything else as it is. */
export function withShortfallsMade(spec: StreamSpec, config: StreamConfig): StreamConfig {
  return {
    ...config,
    subjects: [...(config.subjects ?? []), ...uncaptured(spec, config)],
    allow_direct: config.allow_direct || spec.allow_direct,
    allow_msg_schedules: config.allow_msg_schedules || spec.allow_msg_schedules,
  };
}

/** The spec's subjects that none of the stream's configured subjects covers. */
function uncaptured(spec: StreamSpec, config: StreamConfig): string[] {
  const configured = config.subjects ?? [];
  return spec.subjects.filter(
    (wanted) => !configured.some((subject) => subjectCovers(subject, wanted)),
  );
}

/**
 * Whether every subject `wanted` matches is matched by `configured` too (NATS wildcards: `*` one
 * token, `>` one or more at the end): an operator's `jobs.>` captures `jobs.submit.>`.
 */
export function subjectCovers(configured: string, wanted: string): boolean {
  const have = configured.split(".");
  const want = wanted.split(".");
  for (let i = 0; i < have.length; i++) {
    const token = have[i];
    if (token === ">") return want.length > i;
    const other = want[i];
    if (other === undefined || other === ">") return false;
    if (token !== "*" && token !== other) return false;
  }
  return have.length === want.length;
}
