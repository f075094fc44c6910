import { KvBucket, StreamName, Subject, cancelsRun } from "@conveyor/contracts";
import type { WorkItem } from "@conveyor/contracts";
import type { JetStreamClient, JetStreamManager } from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";
import type { KV } from "@nats-io/kv";

import { readCancellation } from "./cancel-job.ts";

/** Removes a job's work item held in `SCHEDULES` until its time, if it has one. */
export async function dropHeldWorkItem(jsm: JetStreamManager, jobId: string): Promise<void> {
  await jsm.streams.purge(StreamName.Schedules, { filter: Subject.scheduleAt(jobId) });
}

/** What intake does once it has held a scheduled job's work item. */
export interface ScheduledHolds {
  /**
   * Drops the held work item again when a cancel of its run (or a later one) was recorded first,
   * and says whether it did; a cancel of an earlier job of the same id (stored before this one was
   * submitted) is not this job's. A cancel records itself and then drops the hold; intake holds and
   * then reads the cancel: whichever comes second sees the other, so a job cancelled before
   * intake took it (a backlog, a hold that failed and was retried) never runs, however far ahead
   * it was scheduled (the bucket forgets a cancel after a week).
   */
  dropIfCancelled(item: WorkItem): Promise<boolean>;
}

export async function scheduledHolds(js: JetStreamClient): Promise<ScheduledHolds> {
  const cancellations: KV = await new Kvm(js).open(KvBucket.Cancellations, { allow_direct: true });
  const jsm = await js.jetstreamManager();
  return {
    async dropIfCancelled(item) {
      const entry = await cancellations.get(item.id);
      const record = entry?.operation === "PUT" ? readCancellation(entry.string()) : undefined;
      if (record === undefined || !cancelsRun(record, item)) return false;
      await dropHeldWorkItem(jsm, item.id);
      return true;
    },
  };
}
