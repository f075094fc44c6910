import { followJobEvents, jobEventOf } from "@conveyor/client";
import { isTerminal } from "@conveyor/contracts";
import { applyEvent, mergeJobDocuments } from "@conveyor/read-model";
import type { JobDocument } from "@conveyor/read-model";
import type { NatsConnection } from "@nats-io/transport-node";

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
        const event = jobEventOf(id, msg.subject, msg.data);
        if (event !== undefined) doc = applyEvent(doc, event);
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
