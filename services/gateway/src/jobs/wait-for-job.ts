import { Subject, isTerminal, jsonOrUndefined, parseJobEventJson } from "@conveyor/contracts";
import { applyEvent, mergeJobDocuments } from "@conveyor/read-model";
import type { JobDocument } from "@conveyor/read-model";
import type { Msg, NatsConnection } from "@nats-io/transport-node";

/** Reads the job as `GET /v1/jobs/:id` does; `foldAllEvents` folds its newest events in too. */
export type ReadJob = (foldAllEvents: boolean) => Promise<JobDocument | undefined>;

/**
 * The job once it has finished (succeeded, dead or cancelled), or as it is when `waitMs` runs out
 * or `signal` aborts (the client went away); undefined for a job still unknown then. Listens to
 * the job's events (`events.<id>.*`) from before the first read, so nothing published meanwhile
 * is missed, and folds each one into the document with the read model's own merge: the answer
 * does not wait for the projector. A job known only from the events heard is read once more when
 * it finishes, for what those did not carry.
 */
export async function waitForJob(
  nc: NatsConnection,
  id: string,
  waitMs: number,
  read: ReadJob,
  signal: AbortSignal,
): Promise<JobDocument | undefined> {
  const heard: Msg[] = [];
  let wake: (() => void) | undefined;
  const sub = nc.subscribe(Subject.eventsOf(id), {
    callback: (err, msg) => {
      if (err === null) heard.push(msg);
      wake?.();
    },
  });
  const timer = setTimeout(() => wake?.(), waitMs);
  const onAbort = () => wake?.();
  signal.addEventListener("abort", onAbort, { once: true });
  const deadline = Date.now() + waitMs;
  try {
    let doc = await read(false);
    // As the read model ranks the job's events: a cancel of a running job, say, is not its end.
    const finished = () => doc !== undefined && isTerminal(doc.status);
    while (!finished() && Date.now() < deadline && !signal.aborted && !sub.isClosed()) {
      if (heard.length === 0) {
        await new Promise<void>((resolve) => (wake = resolve));
        wake = undefined;
      }
      for (const msg of heard.splice(0)) {
        const event = parseJobEventJson(jsonOrUndefined(msg.data));
        if (!event.success || event.data.jobId !== id) continue;
        doc = applyEvent(doc, event.data);
      }
    }
    if (doc === undefined || !finished()) return doc;
    // What the events heard did not carry (a submission's fields, earlier attempts).
    const stored = await read(true).catch(() => undefined);
    return stored === undefined ? doc : mergeJobDocuments(stored, doc);
  } finally {
    clearTimeout(timer);
    signal.removeEventListener("abort", onAbort);
    sub.unsubscribe();
  }
}
