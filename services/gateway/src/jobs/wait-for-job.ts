import { Subject, isTerminal, jsonOrUndefined, parseJobEventJson } from "@conveyor/contracts";
import { applyEvent, mergeJobDocuments } from "@conveyor/read-model";
import type { JobDocument } from "@conveyor/read-model";
import type { Msg, NatsConnection } from "@nats-io/transport-node";

/** Reads the job as `GET /v1/jobs/:id` does, with its newest events in `EVENTS` folded in. */
export type ReadJob = () => Promise<JobDocument | undefined>;

/**
 * How often a wait reads the job again besides the events it hears: events published while the
 * connection was away, or before a cluster's servers learnt of the subscription, are not heard.
 */
export const waitRereadMs = 5000;

/**
 * The job once it has finished (succeeded, dead or cancelled), or as it is when `waitMs` runs out
 * or `signal` aborts (the client went away, the gateway is stopping); undefined for a job still
 * unknown then; throws what the last read threw when nothing of the job was read or heard (the
 * read model and NATS not answering), as a request without a wait would. Subscribes to the job's events (`events.<id>.*`) and waits until the server has
 * the subscription before it first reads the job with its newest events, so an event is either
 * stored by then or heard; each event heard is folded into the document with the read model's own
 * merge, so the answer does not wait for the projector. What the events heard leave out, and any
 * event not heard, comes from reading the job again: when it looks finished (and the wait goes on
 * if the read says otherwise), every {@link waitRereadMs}, and once more at the end.
 */
export async function waitForJob(
  nc: NatsConnection,
  id: string,
  waitMs: number,
  read: ReadJob,
  signal: AbortSignal,
): Promise<JobDocument | undefined> {
  const heard: Msg[] = [];
  let wake = (): void => undefined;
  const sub = nc.subscribe(Subject.eventsOf(id), {
    callback: (err, msg) => {
      if (err === null) heard.push(msg);
      wake();
    },
  });
  // One clock decides: the wait is over once this timer has fired.
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    wake();
  }, waitMs);
  const onAbort = () => {
    wake();
  };
  signal.addEventListener("abort", onAbort, { once: true });
  void sub.closed.then(onAbort, onAbort);
  const over = () => timedOut || signal.aborted || sub.isClosed();
  let doc: JobDocument | undefined;
  // Why the job could not be read, while nothing of it was read or heard: answered as without a wait.
  let unreadable: Error | undefined;
  const reread = async () => {
    try {
      const stored = await read();
      unreadable = undefined;
      if (stored !== undefined) doc = doc === undefined ? stored : mergeJobDocuments(stored, doc);
    } catch (err) {
      unreadable = err instanceof Error ? err : new Error(String(err));
    }
  };
  try {
    await nc.flush();
    await reread();
    let rereadAt = performance.now() + waitRereadMs;
    while (!finished(doc) && !over()) {
      if (heard.length === 0) {
        let rereadTimer: NodeJS.Timeout | undefined;
        await new Promise<void>((resolve) => {
          wake = resolve;
          rereadTimer = setTimeout(resolve, Math.max(0, rereadAt - performance.now()));
        });
        clearTimeout(rereadTimer);
        wake = () => undefined;
      }
      for (const msg of heard.splice(0)) doc = folded(doc, msg, id);
      if (finished(doc) || performance.now() >= rereadAt) {
        await reread();
        rereadAt = performance.now() + waitRereadMs;
      }
    }
    // The wait ran out: what was stored meanwhile and not heard.
    if (!finished(doc)) await reread();
    if (doc === undefined && unreadable !== undefined) throw unreadable;
    return doc;
  } finally {
    clearTimeout(timer);
    signal.removeEventListener("abort", onAbort);
    sub.unsubscribe();
  }
}

function finished(doc: JobDocument | undefined): boolean {
  return doc !== undefined && isTerminal(doc.status);
}

/** `doc` with the event `msg` carries, when it is one of this job's, on its kind's subject. */
function folded(doc: JobDocument | undefined, msg: Msg, id: string): JobDocument | undefined {
  const event = parseJobEventJson(jsonOrUndefined(msg.data));
  // As the projector takes events: the body's job and kind are those its subject names.
  if (!event.success || event.data.jobId !== id) return doc;
  if (msg.subject !== Subject.event(id, event.data.kind)) return doc;
  return applyEvent(doc, event.data);
}
