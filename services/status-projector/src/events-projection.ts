import { LifecycleKind, StreamName, terminalStatuses } from "@conveyor/contracts";
import type { JobEvent, JobStatus, RejectedEvent } from "@conveyor/contracts";
import type { JsMsg } from "@nats-io/jetstream";

import { decodeEvent } from "./decode-event.ts";
import type { DecodedEvent } from "./decode-event.ts";
import type { JobCache } from "./job-cache.ts";
import { projectEvents } from "./project-events.ts";
import type { HoldKind, Projection } from "./projection.ts";

/**
 * Lifecycle events (`events.>` on `EVENTS`) into the `jobs` and `rejections` collections, with
 * `cache` holding the job documents written last (the projection must be their only writer).
 *
 * The events of a job whose events in the batch end nothing (no `succeeded`, `dead` or
 * `cancelled`) are deferred to a later batch while `mayDefer` allows it (the loop holds them for
 * at most `deferMs`, or `newJobDeferMs` while the job's first `queued` is among them): a job
 * usually starts and ends moments after it was queued, and its document is then written once
 * instead of two or three times (on FerretDB an update costs several inserts). A terminal status
 * is never deferred.
 */
export function eventsProjection(cache: JobCache, fenceRevisions: boolean): Projection {
  // Deferred messages are decoded once.
  const decodedOnce = new WeakMap<JsMsg, DecodedEvent>();
  return {
    stream: StreamName.Events,
    label: "events",
    // `events.<jobId>.<kind>`: the job, without decoding the body.
    holdKey: (msg) => msg.subject.slice(0, msg.subject.lastIndexOf(".")),
    prepare(batch, logger, mayDefer = () => false) {
      const jobEvents = new Map<string, { events: JobEvent[]; msgs: JsMsg[] }>();
      const rejections: RejectedEvent[] = [];
      for (const msg of batch) {
        const decoded = decodedOnce.get(msg) ?? decodeEvent(msg.subject, msg.data);
        decodedOnce.delete(msg);
        if (decoded.type === "job") {
          const { event } = decoded;
          const job = jobEvents.get(event.jobId) ?? { events: [], msgs: [] };
          jobEvents.set(event.jobId, job);
          job.events.push(event);
          job.msgs.push(msg);
        } else if (decoded.type === "rejection") rejections.push(decoded.event);
        else {
          const { reason, issues } = decoded;
          logger.warn(
            { subject: msg.subject, streamSeq: msg.seq, reason, issues },
            "invalid event skipped",
          );
        }
      }
      const due: JobEvent[] = [];
      const deferred: JsMsg[] = [];
      for (const job of jobEvents.values()) {
        const hold: HoldKind = job.events.some(opensJob) ? "new" : "known";
        // A message that may not wait (held back long enough) makes its job due now.
        const ends = job.events.some(endsJob) || !job.msgs.every((msg) => mayDefer(msg, hold));
        if (ends) due.push(...job.events);
        else {
          job.msgs.forEach((msg, i) => {
            deferred.push(msg);
            decodedOnce.set(msg, { type: "job", event: job.events[i] as JobEvent });
          });
        }
      }
      const first = due[0] ?? rejections[0];
      return {
        span: {
          subject: batch[0]?.subject ?? "events",
          jobId: first?.kind === "rejected" ? undefined : first?.jobId,
          jobType: first?.kind === "rejected" ? undefined : first?.type,
        },
        store: (db, signal) =>
          projectEvents(db, due, rejections, cache, signal, { fenceRevisions }),
        deferred,
      };
    },
  };
}

const terminalKinds: ReadonlySet<string> = new Set<JobStatus>(terminalStatuses);

function endsJob(event: JobEvent): boolean {
  return terminalKinds.has(event.kind);
}

/** A job's first event: before it the read model has no document of the job. */
function opensJob(event: JobEvent): boolean {
  return event.kind === LifecycleKind.Queued && event.run === 1;
}
