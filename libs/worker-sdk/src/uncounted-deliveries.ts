import {
  LifecycleKind,
  StreamName,
  Subject,
  jsonOrUndefined,
  parseJobEventJson,
} from "@conveyor/contracts";
import type { JetStreamManager } from "@nats-io/jetstream";

/**
 * How many earlier deliveries of a job's run were cut short by a stopping worker, and so are not
 * counted against its `maxAttempts`.
 */
export type UncountedDeliveries = (jobId: string, run: number) => Promise<number>;

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
    if (failed === null) return 0;
    const parsed = parseJobEventJson(jsonOrUndefined(failed.data));
    if (!parsed.success || parsed.data.kind !== LifecycleKind.Failed) return 0;
    return parsed.data.run === run ? (parsed.data.uncounted ?? 0) : 0;
  };
}
