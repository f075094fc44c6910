import { compareTuples, eventMsgId } from "@conveyor/contracts";
import type { JobEvent } from "@conveyor/contracts";
import type { NatsConnection } from "@nats-io/transport-node";

import { followJobEvents, jobEventOf, newestStoredEvents } from "./follow-job-events.ts";
import { JobStatusFold, eventOrderKey } from "./job-outcome.ts";

/** How often a follow reads the job's stored events again besides those it hears. */
const rereadMs = 5000;

/** Whether an event ranks below the last one given (a progress report: or is not newer). */
function isBehind(
  next: { key: number[]; seq: number },
  last: { key: number[]; seq: number },
  progress: boolean,
): boolean {
  const order = compareTuples(next.key, last.key);
  return order < 0 || (order === 0 && progress && next.seq <= last.seq);
}

function byStatusOrder(a: JobEvent, b: JobEvent): number {
  return compareTuples(eventOrderKey(a), eventOrderKey(b));
}

/**
 * The job's events as they come: first the newest stored event of each kind (the job as it is),
 * in the order the read model ranks them, then each new one as it is heard, ending with the event
 * that ends the job's newest run (`succeeded`, `dead`, `cancelled`), when `timeoutMs` passes,
 * when `signal` aborts, or when the caller stops iterating. Each event comes once, and never one
 * that ranks below one already given (an older attempt's, a progress report older than one given,
 * a read that came late): the job only moves forward. Throws what reading the stored events threw
 * when it failed and nothing was heard, and why the subscription ended (a permission refused).
 */
export async function* followEvents(
  nc: NatsConnection,
  jobId: string,
  options: { timeoutMs: number; readTimeoutMs: number; signal: AbortSignal | undefined },
): AsyncGenerator<JobEvent> {
  const fold = new JobStatusFold();
  const seen = new Set<string>();
  const ready: JobEvent[] = [];
  /** The rank of the last event queued, and its progress report's `seq` when it was one. */
  let last: { key: number[]; seq: number } | undefined;
  let wake: () => void = () => undefined;
  const take = (events: JobEvent[]) => {
    for (const event of events.sort(byStatusOrder)) {
      const id = eventMsgId(event);
      if (seen.has(id) || fold.outcome !== undefined) continue;
      const next = { key: eventOrderKey(event), seq: event.kind === "progress" ? event.seq : -1 };
      if (last !== undefined && isBehind(next, last, event.kind === "progress")) continue;
      seen.add(id);
      last = next;
      fold.add(event);
      ready.push(event);
    }
    wake();
  };
  const stop = new AbortController();
  const signal =
    options.signal === undefined ? stop.signal : AbortSignal.any([options.signal, stop.signal]);
  const following = followJobEvents(
    nc,
    jobId,
    {
      async read() {
        take(await newestStoredEvents(nc, jobId, options.readTimeoutMs));
      },
      heard: (msg) => {
        const event = jobEventOf(jobId, msg.subject, msg.data);
        if (event !== undefined) take([event]);
      },
      finished: () => fold.outcome !== undefined,
    },
    { timeoutMs: options.timeoutMs, readTimeoutMs: options.readTimeoutMs, rereadMs, signal },
  );
  let ended = false;
  const end = following.finally(() => {
    ended = true;
    wake();
  });
  try {
    for (;;) {
      const event = ready.shift();
      if (event !== undefined) {
        yield event;
        // The job's end: nothing after it (a progress report still in flight) is its.
        if (event === fold.outcome) return;
        continue;
      }
      if (ended) break;
      await new Promise<void>((resolve) => {
        wake = resolve;
      });
    }
    const { lastReadError, subscriptionError } = await end;
    if (fold.outcome === undefined && subscriptionError !== undefined) throw subscriptionError;
    if (!fold.known && lastReadError !== undefined) throw lastReadError;
  } finally {
    // The caller stopped early, or the end came: the follow ends, its subscription with it, without
    // holding the caller up for a read in flight.
    stop.abort();
    end.catch(() => undefined);
  }
}
