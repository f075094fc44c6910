import type { StreamConfig } from "@nats-io/jetstream";

import type { StreamSpec } from "./streams.ts";

/**
 * What an existing stream lacks that this release's services need, named as a `TopologyError`
 * names what is missing: each subject the spec has that the stream does not capture (a stream
 * provisioned by an older release: its consumers would be created, and never see a message), and
 * direct gets when the spec allows them (the gateway reads a job's events with them).
 */
export function streamShortfalls(spec: StreamSpec, config: StreamConfig): string[] {
  const captured = new Set(config.subjects);
  const shortfalls = spec.subjects
    .filter((subject) => !captured.has(subject))
    .map((subject) => `subject ${subject} of stream ${spec.name}`);
  if (spec.allow_direct && !config.allow_direct) {
    shortfalls.push(`allow_direct of stream ${spec.name}`);
  }
  return shortfalls;
}

/** The stream's configuration with what it lacks added, and everything else as it is. */
export function withShortfallsMade(spec: StreamSpec, config: StreamConfig): StreamConfig {
  const captured = new Set(config.subjects);
  return {
    ...config,
    subjects: [...config.subjects, ...spec.subjects.filter((subject) => !captured.has(subject))],
    allow_direct: config.allow_direct || spec.allow_direct,
  };
}
