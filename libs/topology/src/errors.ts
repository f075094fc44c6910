/**
 * The JetStream topology is incomplete: streams, consumers or KV buckets that services need are
 * missing. `missing` names each one, e.g. `stream WORK` or `consumer JOBS/dispatcher-intake`.
 */
export class TopologyError extends Error {
  override readonly name = "TopologyError";
  readonly missing: readonly string[];

  constructor(missing: readonly string[], options?: { cause?: unknown }) {
    super(`JetStream topology incomplete, missing: ${missing.join(", ")}`, options);
    this.missing = missing;
  }
}

/**
 * Provisioning could not create or update some streams, consumers or buckets (the rest was done).
 * `failures` names each with the server's reason, e.g. `stream EVENTS: stream configuration
 * update can not change storage type (10052)`.
 */
export class TopologyUpdateError extends Error {
  override readonly name = "TopologyUpdateError";
  readonly failures: readonly string[];

  constructor(failures: readonly string[], causes: readonly unknown[]) {
    super(`JetStream topology not fully provisioned: ${failures.join("; ")}`, {
      cause: new AggregateError(causes),
    });
    this.failures = failures;
  }
}
