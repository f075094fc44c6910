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
