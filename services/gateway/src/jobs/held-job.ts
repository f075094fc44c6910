import { Header, JobStatus, StreamName, Subject, workItemOrUndefined } from "@conveyor/contracts";
import type { WorkItem } from "@conveyor/contracts";
import type { JobDocument } from "@conveyor/read-model";
import type { JetStreamManager } from "@nats-io/jetstream";

import { errorMessage, unavailable } from "../errors.ts";
import { withTimeout } from "../http/with-timeout.ts";

/**
 * A scheduled job as its work item held in `SCHEDULES` shows it, queued at its run with its
 * submission's fields and `runAt`, or undefined when none is held: for a job the read model and
 * `EVENTS` no longer know (held longer than `EVENTS` keeps events, and the read model rebuilt
 * since), which can still be read and cancelled.
 */
export async function heldJob(
  jsm: JetStreamManager,
  id: string,
  timeoutMs: number,
): Promise<JobDocument | undefined> {
  let held: Held | undefined;
  try {
    held = await withTimeout(readHeld(jsm, id), timeoutMs, "NATS");
  } catch (err) {
    throw unavailable(`whether job ${id} is held could not be read: ${errorMessage(err)}`, err);
  }
  if (held === undefined) return undefined;
  const { item, runAt } = held;
  const doc: JobDocument = {
    _id: item.id,
    type: item.type,
    status: JobStatus.Queued,
    run: item.run,
    attempt: 0,
    payload: item.payload,
    priority: item.priority,
    maxAttempts: item.maxAttempts,
    attempts: [],
    submittedAt: item.submittedAt,
    updatedAt: item.submittedAt,
  };
  if (item.batchId !== undefined) doc.batchId = item.batchId;
  if (runAt !== undefined) doc.runAt = runAt;
  return doc;
}

interface Held {
  item: WorkItem;
  /** When the scheduler is to hand it back, from its `Nats-Schedule: @at <time>` header. */
  runAt: string | undefined;
}

async function readHeld(jsm: JetStreamManager, id: string): Promise<Held | undefined> {
  const msg = await jsm.streams.getMessage(StreamName.Schedules, {
    last_by_subj: Subject.scheduleAt(id),
  });
  if (msg === null) return undefined;
  // One that cannot be read is dead-lettered by its worker when it comes due.
  const item = workItemOrUndefined(msg.data);
  if (item?.id !== id) return undefined;
  const at = /^@at (\S+)$/.exec(msg.header.get(Header.Schedule))?.[1];
  return { item, runAt: at !== undefined && !Number.isNaN(Date.parse(at)) ? at : undefined };
}
