/** How {@link ensureTopology} provisions the streams, consumers and bucket. */
export interface TopologyOptions {
  /** Replicas of every stream and of the KV bucket (1, 3 or 5). @default 1 */
  replicas?: number;
  /**
   * How long the intake stream remembers a `Nats-Msg-Id`, in milliseconds: a submission repeated
   * within it is stored once. @default 3600000 (1 h)
   */
  jobsDuplicateWindowMs?: number;
  /**
   * How long the work stream remembers a work item's `Nats-Msg-Id` (`<jobId>:<run>`), in
   * milliseconds: a work item the dispatcher publishes again within it (its intake message was
   * redelivered after the work item was stored) is stored once. The server keeps every id of the
   * window in memory. At least {@link minWorkDuplicateWindowMs}: the dispatcher publishes a work
   * item again for up to about 28 minutes (a submission's retries, a replay command's), and each
   * copy stored past the window would run the job once more. @default 3600000 (1 h)
   */
  workDuplicateWindowMs?: number;
  /**
   * How long `EVENTS` keeps lifecycle events, in milliseconds: what a read model can be rebuilt
   * from. Each job retained costs nats-server memory (its per-job subjects are indexed in memory,
   * about 0.8 KB of RSS per job; see docs/topology.md), so size it to the job rate.
   * @default 604800000 (7 days)
   */
  eventsMaxAgeMs?: number;
  /** How long `JOBS` keeps submissions and commands, in milliseconds (an audit window). @default 604800000 (7 days) */
  jobsMaxAgeMs?: number;
}

/** {@link TopologyOptions} with every default filled in. */
export interface ResolvedTopologyOptions {
  replicas: number;
  jobsDuplicateWindowMs: number;
  workDuplicateWindowMs: number;
  eventsMaxAgeMs: number;
  jobsMaxAgeMs: number;
}

/**
 * The shortest `WORK` duplicate window: longer than the dispatcher goes on publishing one work
 * item again while NATS answers (a submission's or a replay command's 50 deliveries, 1 s doubling
 * to 30 s apart, about 25 minutes), with room for the deliveries' own time. Retries through an
 * outage go on until it ends, and can outlast the window (see docs/topology.md).
 */
export const minWorkDuplicateWindowMs = 60 * 60_000;

/** How long `EVENTS` remembers an event's `Nats-Msg-Id`: its age cannot be shorter. */
export const eventsDuplicateWindowMs = 2 * 60_000;

/**
 * The options with every default filled in.
 * @throws {RangeError} naming an option that is not a whole number of milliseconds from 1 (a
 *   `NaN` age would keep events forever), replicas other than 1, 3 or 5, or a stream age shorter
 *   than the duplicate window the stream must hold, which JetStream refuses.
 */
export function resolveTopologyOptions(options: TopologyOptions = {}): ResolvedTopologyOptions {
  const resolved = {
    replicas: options.replicas ?? 1,
    jobsDuplicateWindowMs: wholeMs("jobsDuplicateWindowMs", options.jobsDuplicateWindowMs, hourMs),
    workDuplicateWindowMs: wholeMs("workDuplicateWindowMs", options.workDuplicateWindowMs, hourMs),
    eventsMaxAgeMs: wholeMs("eventsMaxAgeMs", options.eventsMaxAgeMs, defaultMaxAgeMs),
    jobsMaxAgeMs: wholeMs("jobsMaxAgeMs", options.jobsMaxAgeMs, defaultMaxAgeMs),
  };
  if (![1, 3, 5].includes(resolved.replicas)) {
    throw new RangeError(`topology option replicas must be 1, 3 or 5, not ${resolved.replicas}`);
  }
  if (resolved.jobsMaxAgeMs < resolved.jobsDuplicateWindowMs) {
    throw new RangeError(
      `topology option jobsMaxAgeMs (${resolved.jobsMaxAgeMs}) must be at least ` +
        `jobsDuplicateWindowMs (${resolved.jobsDuplicateWindowMs})`,
    );
  }
  if (resolved.workDuplicateWindowMs < minWorkDuplicateWindowMs) {
    throw new RangeError(
      `topology option workDuplicateWindowMs (${resolved.workDuplicateWindowMs}) must be at ` +
        `least ${minWorkDuplicateWindowMs} (1 h): the dispatcher may publish a work item again ` +
        "for about 28 minutes, and a copy stored after the window would run the job again",
    );
  }
  if (resolved.eventsMaxAgeMs < eventsDuplicateWindowMs) {
    throw new RangeError(
      `topology option eventsMaxAgeMs (${resolved.eventsMaxAgeMs}) must be at least ` +
        `${eventsDuplicateWindowMs}, the events' duplicate window`,
    );
  }
  return resolved;
}

function wholeMs(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new RangeError(
      `topology option ${name} must be a whole number of milliseconds from 1, not ${value}`,
    );
  }
  return value;
}

/** Durations used by the stream and consumer definitions, in milliseconds. */
export const minuteMs = 60_000;
export const hourMs = 60 * minuteMs;
export const dayMs = 24 * hourMs;

/** How long `EVENTS` and `JOBS` keep messages unless told otherwise: 7 days. */
export const defaultMaxAgeMs = 7 * dayMs;

/** How long `DLQ` keeps a dead letter that is neither replayed nor discarded: 30 days. */
export const dlqMaxAgeMs = 30 * dayMs;
