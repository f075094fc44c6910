import type { JobDocument } from "@conveyor/read-model";
import type { NatsConnection } from "@nats-io/transport-node";

import type { EventStream } from "../http/event-stream.ts";
import { toJobView } from "./job-view.ts";
import { followJob } from "./wait-for-job.ts";
import type { ReadJob } from "./wait-for-job.ts";

/** How long one stream of a job's events lasts at most, by default: then the client reconnects. */
export const defaultJobStreamMaxMs = 30 * 60_000;

/**
 * Writes the job to `stream` as a `job` event (the view `GET /v1/jobs/:id` answers), starting
 * with `first`, and again each time it changes (a status, an attempt, a progress report), until
 * it has finished: then an `end` event (`{ id, status }`) and the stream ends. When `timeoutMs`
 * runs out or `signal` aborts (the client went away, the gateway is stopping) the stream ends
 * without `end`, and a client's `EventSource` reconnects, to be sent the job as it is then.
 */
export async function streamJobEvents(
  stream: EventStream,
  nc: NatsConnection,
  id: string,
  first: JobDocument,
  read: ReadJob,
  options: { timeoutMs: number; signal: AbortSignal },
): Promise<void> {
  let sent = "";
  const send = (doc: JobDocument) => {
    const view = JSON.stringify(toJobView(doc));
    // Reads every few seconds find the job as it was: only a change is sent.
    if (view === sent) return;
    sent = view;
    stream.send("job", view);
  };
  try {
    send(first);
    const { doc, finished } = await followJob(nc, id, read, {
      ...options,
      initial: first,
      onChange: send,
    });
    if (finished && doc !== undefined) {
      stream.send("end", JSON.stringify({ id, status: doc.status }));
    }
  } finally {
    stream.end();
  }
}
