/**
 * NATS header names. Header keys are case-sensitive in NATS; these spellings are the contract.
 * `traceparent`/`tracestate` follow W3C Trace Context.
 */
export const Header = {
  /** JetStream deduplication key: the idempotency key, or the job id. */
  MsgId: "Nats-Msg-Id",
  JobId: "Conveyor-Job-Id",
  JobType: "Conveyor-Job-Type",
  /** Where a submission came from: `rest` or `nats`; also on work items (and so on dead letters). */
  Source: "Conveyor-Source",
  /** nats-server's message scheduler (ADR-51): `@at <time>` holds a message until then... */
  Schedule: "Nats-Schedule",
  /** ...and puts it on this subject of the same stream... */
  ScheduleTarget: "Nats-Schedule-Target",
  /** ...replacing what that subject holds (`sub`): at most one copy waits there. */
  ScheduleRollup: "Nats-Schedule-Rollup",
  /** On a copy the scheduler made of a recurring message: when it makes the next one (RFC 3339). */
  ScheduleNext: "Nats-Schedule-Next",
  TraceParent: "traceparent",
  TraceState: "tracestate",
} as const;
