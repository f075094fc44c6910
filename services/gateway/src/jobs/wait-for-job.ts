import { followJobEvents } from "@conveyor/client";
import { Subject, isTerminal, jsonOrUndefined, parseJobEventJson } from "@conveyor/contracts";
import { applyEvent, mergeJobDocuments } from "@conveyor/read-model";
import type { JobDocument } from "@conveyor/read-model";
import type { Msg, NatsConnection } from "@nats-io/transport-node";

/** Reads the job as `GET /v1/jobs/:id` does, with its newest events in `EVENTS` folded in. */
export type ReadJob = () => Promise<JobDocument | undefined>;

/** How often a wait reads the job again besides the events it hears. */
export const waitRereadMs = 5000;

/**
 * The job once it has finished (succeeded, dead or cancelled), or as it is when `waitMs` runs out
 * or `signal` aborts (the client went away, the gateway is stopping); undefined for a job still
 * unknown then; throws what the last read threw when nothing of the job was read or heard (the
 * read model and NATS not answering), as a request without a wait would. Follows the job's events
 * ({@link followJobEvents}) and folds each one heard into the document with the read model's own
 * merge, so the answer does not wait for the projector; what the events leave out, and any event
 * not heard, comes from reading the job again: when it looks finished (the wait goes on if the read
 * says otherwise), every {@link waitRereadMs}, and once more at the end.
 */
export async function waitForJob(
  nc: NatsConnection,
  id: string,
  waitMs: number,
  read: ReadJob,
  signal: AbortSignal,
): Promise<JobDocument | undefined> {
  let doc: JobDocument | undefined;
  const { lastReadError } = await followJobEvents(
    nc,
    id,
    {
      async read() {
        const stored = await read();
        if (stored !== undefined) doc = doc === undefined ? stored : mergeJobDocuments(stored, doc);
      },
      heard: (msg) => {
        doc = folded(doc, msg, id);
      },
      // As the read model ranks the job's events: a cancel of a running job, say, is not its end.
      finished: () => doc !== undefined && isTerminal(doc.status),
      confirmFinish: true,
    },
    // Each read has its own deadlines (the read model's, NATS'): this one only bounds a hang.
    { timeoutMs: waitMs, signal, rereadMs: waitRereadMs, readTimeoutMs: waitRereadMs },
  );
  if (doc === undefined && lastReadError !== undefined) throw lastReadError;
  return doc;
}

/** `doc` with the event `msg` carries, when it is one of this job's, on its kind's subject. */
function folded(doc: JobDocument | undefined, msg: Msg, id: string): JobDocument | undefined {
  const event = parseJobEventJson(jsonOrUndefined(msg.data));
  // As the projector takes events: the body's job and kind are those its subject names.
  if (!event.success || event.data.jobId !== id) return doc;
  if (msg.subject !== Subject.event(id, event.data.kind)) return doc;
  return applyEvent(doc, event.data);
}
