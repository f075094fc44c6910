import {
  JobStatus,
  StreamName,
  Subject,
  jsonOrUndefined,
  parseWorkItemJson,
} from "@conveyor/contracts";
import type { WorkItem } from "@conveyor/contracts";
import type { JobDocument } from "@conveyor/read-model";
import type { JetStreamManager } from "@nats-io/jetstream";

import { errorMessage, unavailable } from "../errors.ts";
import { withTimeout } from "../http/with-timeout.ts";

/**
 * A scheduled job as its work item held in `SCHEDULES` shows it, queued at its run, or undefined
 * when none is held: for a job the read model and `EVENTS` no longer know (held longer than
 * `EVENTS` keeps events, and the read model rebuilt since), which can still be cancelled.
 */
export async function heldJob(
  jsm: JetStreamManager,
  id: string,
  timeoutMs: number,
): Promise<JobDocument | undefined> {
  let item: WorkItem | undefined;
  try {
    item = await withTimeout(readHeldItem(jsm, id), timeoutMs, "NATS");
  } catch (err) {
    throw unavailable(`whether job ${id} is held could not be read: ${errorMessage(err)}`, err);
  }
  if (item === undefined) return undefined;
  return {
    _id: item.id,
    type: item.type,
    status: JobStatus.Queued,
    run: item.run,
    attempt: 0,
    attempts: [],
    submittedAt: item.submittedAt,
    updatedAt: item.submittedAt,
  };
}

async function readHeldItem(jsm: JetStreamManager, id: string): Promise<WorkItem | undefined> {
  const msg = await jsm.streams.getMessage(StreamName.Schedules, {
    last_by_subj: Subject.scheduleAt(id),
  });
  if (msg === null) return undefined;
  try {
    const parsed = parseWorkItemJson(jsonOrUndefined(msg.data));
    return parsed.success && parsed.data.id === id ? parsed.data : undefined;
  } catch {
    // Nested too deep to read: its worker dead-letters it when it comes due.
    return undefined;
  }
}
