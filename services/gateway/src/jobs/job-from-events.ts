import { JobEvent, LifecycleKind, StreamName, Subject } from "@conveyor/contracts";
import { applyEvent } from "@conveyor/read-model";
import type { JobDocument } from "@conveyor/read-model";
import type { JetStreamManager } from "@nats-io/jetstream";

import { withTimeout } from "../http/with-timeout.ts";

/**
 * The kinds looked up for a job the read model does not show yet. Progress reports are left out:
 * each has a subject of its own per report, and the newest status is what a reader waits for.
 */
const statusKinds = [
  LifecycleKind.Queued,
  LifecycleKind.Started,
  LifecycleKind.Succeeded,
  LifecycleKind.Failed,
  LifecycleKind.Dead,
  LifecycleKind.Cancelled,
] as const;

/**
 * The document of a job that is in `EVENTS` but not yet in the read model (the projector holds an
 * unfinished job's events back for a while, and it may be behind): the newest event of each status
 * kind, folded by the read model's own merge, so it is the document the projector will write from
 * those events. Undefined when `EVENTS` holds nothing of the job.
 *
 * @throws {DeadlineError} when NATS does not answer within `timeoutMs`; a failed look-up rejects
 *   with nats.js's error.
 */
export async function jobFromEvents(
  jsm: JetStreamManager,
  jobId: string,
  timeoutMs: number,
): Promise<JobDocument | undefined> {
  const lookups = statusKinds.map((kind) =>
    jsm.streams.getMessage(StreamName.Events, { last_by_subj: Subject.event(jobId, kind) }),
  );
  const stored = await withTimeout(Promise.all(lookups), timeoutMs, "NATS");
  let doc: JobDocument | undefined;
  for (const msg of stored) {
    if (msg === null) continue;
    const parsed = JobEvent.safeParse(readJson(msg.data));
    // An event the projector would skip as invalid is skipped here too.
    if (parsed.success && parsed.data.jobId === jobId) doc = applyEvent(doc, parsed.data);
  }
  return doc;
}

const decoder = new TextDecoder();

function readJson(data: Uint8Array): unknown {
  try {
    return JSON.parse(decoder.decode(data)) as unknown;
  } catch {
    return undefined;
  }
}
