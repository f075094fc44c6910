import {
  LifecycleKind,
  StreamName,
  Subject,
  jsonOrUndefined,
  parseJobEventJson,
} from "@conveyor/contracts";
import type { JetStreamManager } from "@nats-io/jetstream";

/** The earlier deliveries of a job's run that a stopping worker cut short. */
export interface CutShort {
  /** Deliveries cut short, not counted against the job's `maxAttempts`. */
  uncounted: number;
  /** Of them, those stopped before their handler started (waiting for a rate limit). */
  unstarted: number;
}

/**
 * How many earlier deliveries of a job's run were cut short by a stopping worker, and so are not
 * counted against its `maxAttempts`.
 */
export type UncountedDeliveries = (jobId: string, run: number) => Promise<CutShort>;

const none: CutShort = { uncounted: 0, unstarted: 0 };

/**
 * Reads the count from the job's newest `failed` event (`events.<jobId>.failed`, one direct get):
 * each delivery a stop cuts short records the run's count so far in its `failed` event, and every
 * later `failed` event of the run carries it on, so the newest has it (0 when that event is
 * another run's, or there is none). Rejects when `EVENTS` does not answer.
 */
export function newestFailedEventCount(jsm: JetStreamManager): UncountedDeliveries {
  return async (jobId, run) => {
    const failed = await jsm.direct.getMessage(StreamName.Events, {
      last_by_subj: Subject.event(jobId, LifecycleKind.Failed),
    });
    if (failed === null) return none;
    const parsed = parseJobEventJson(jsonOrUndefined(failed.data));
    if (!parsed.success || parsed.data.kind !== LifecycleKind.Failed) return none;
    const event = parsed.data;
    if (event.run !== run) return none;
    return { uncounted: event.uncounted ?? 0, unstarted: event.unstarted ?? 0 };
  };
}
