import { StreamName, Subject, compareTuples } from "@conveyor/contracts";
import type { JobEvent } from "@conveyor/contracts";
import type { JetStreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";

import { followJobEvents, jobEventOf } from "./follow-job-events.ts";
import { JobStatusFold, eventOrderKey } from "./job-outcome.ts";

/** How often a follow reads the job's stored events again besides those it hears. */
const rereadMs = 5000;

/** One event's identity, as its `Nats-Msg-Id` has it: a re-publish or a read again is the same. */
function identity(event: JobEvent): string {
  const seq = event.kind === "progress" ? `:${String(event.seq)}` : "";
  return `${String(event.run)}:${String(event.attempt)}:${event.kind}${seq}`;
}

function byStatusOrder(a: JobEvent, b: JobEvent): number {
  return compareTuples(eventOrderKey(a), eventOrderKey(b));
}

/**
 * The job's events as they come: first the newest stored event of each kind (the job as it is),
 * in the order the read model ranks them, then each new one as it is published, each once, ending
 * after the event that ends the job's newest run (`succeeded`, `dead`, `cancelled`), when
 * `timeoutMs` passes, when `signal` aborts, or when the caller stops iterating. Throws what reading
 * the stored events threw when it failed and nothing was heard, and why the subscription ended (a
 * permission refused).
 */
export async function* followEvents(
  nc: NatsConnection,
  jsm: () => Promise<JetStreamManager>,
  jobId: string,
  options: { timeoutMs: number; readTimeoutMs: number; signal: AbortSignal | undefined },
): AsyncGenerator<JobEvent> {
  const fold = new JobStatusFold();
  const seen = new Set<string>();
  const ready: JobEvent[] = [];
  let wake: () => void = () => undefined;
  const take = (events: JobEvent[]) => {
    for (const event of events) {
      const id = identity(event);
      if (seen.has(id)) continue;
      seen.add(id);
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
        const stored: JobEvent[] = [];
        const messages = await (
          await jsm()
        ).direct.getLastMessagesFor(StreamName.Events, { multi_last: [Subject.eventsOf(jobId)] });
        for await (const msg of messages) {
          const event = jobEventOf(jobId, msg.subject, msg.data);
          if (event !== undefined) stored.push(event);
        }
        take(stored.sort(byStatusOrder));
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
    // The caller stopped early: the follow ends, its subscription with it.
    stop.abort();
    await end.catch(() => undefined);
  }
}
