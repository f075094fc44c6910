import { StreamName, Subject, jsonOrUndefined, parseJobEventJson } from "@conveyor/contracts";
import type { JobEvent } from "@conveyor/contracts";
import type { Msg, NatsConnection } from "@nats-io/transport-node";

import { newestStoredMessages } from "./newest-stored-messages.ts";

/** How a wait on a job's events reads and judges the job: see {@link followJobEvents}. */
export interface JobEventsFollower {
  /** Reads what is stored of the job (resolves; a failure rejects and is kept as `lastReadError`). */
  read(): Promise<void>;
  /** Takes one event message heard on the job's subjects. */
  heard(msg: Msg): void;
  /** Whether the job has finished as far as what was read and heard tells. */
  finished(): boolean;
  /**
   * Whether to read again when the events heard say the job finished, in case what is stored
   * says otherwise. @default false
   */
  confirmFinish?: boolean;
}

/** How long {@link followJobEvents} follows, and how often it reads besides hearing. */
export interface FollowOptions {
  timeoutMs: number;
  signal?: AbortSignal | undefined;
  /**
   * How often the job is read again besides the events heard: events published while the
   * connection was away, or before a cluster's servers learnt of the subscription, are not heard.
   */
  rereadMs: number;
  /** Longest one read may take before it counts as failed (and is left to end by itself). */
  readTimeoutMs: number;
}

/** How a follow ended besides the job's state, for the caller to judge. */
export interface FollowEnd {
  /** The last read's failure; undefined when it succeeded. */
  lastReadError: Error | undefined;
  /** Why the subscription to the job's events ended early (a permission refused, say). */
  subscriptionError: Error | undefined;
}

/**
 * Follows one job until `follower` says it finished, `timeoutMs` passes or `signal` aborts.
 * Subscribes to the job's events (`events.<id>.*`) and reads what is stored only once the server
 * has the subscription, so an event is either stored by then or heard; reads again every
 * `rereadMs`, and once more at the end if the job has not finished and the wait was not aborted.
 * Each read is given at most `readTimeoutMs`.
 */
export async function followJobEvents(
  nc: NatsConnection,
  jobId: string,
  follower: JobEventsFollower,
  options: FollowOptions,
): Promise<FollowEnd> {
  const { signal } = options;
  const heard: Msg[] = [];
  let wake = (): void => undefined;
  const sub = nc.subscribe(Subject.eventsOf(jobId), {
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
  }, options.timeoutMs);
  const onAbort = () => {
    wake();
  };
  signal?.addEventListener("abort", onAbort, { once: true });
  let subscriptionError: Error | undefined;
  void sub.closed.then(
    (ended) => {
      if (ended instanceof Error) subscriptionError = ended;
      wake();
    },
    (err: unknown) => {
      subscriptionError = err instanceof Error ? err : new Error(String(err));
      wake();
    },
  );
  const over = () => timedOut || signal?.aborted === true || sub.isClosed();
  let lastReadError: Error | undefined;
  const read = async () => {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        reject(new Error(`the job was not read within ${String(options.readTimeoutMs)} ms`));
      }, options.readTimeoutMs);
    });
    try {
      await Promise.race([follower.read(), late]);
      lastReadError = undefined;
    } catch (err) {
      lastReadError = err instanceof Error ? err : new Error(String(err));
    } finally {
      clearTimeout(timer);
    }
  };
  try {
    // A flush that fails (the connection away) leaves the reads to cover the gap.
    await nc.flush().catch(() => undefined);
    await read();
    let rereadAt = performance.now() + options.rereadMs;
    while (!follower.finished() && !over()) {
      if (heard.length === 0) {
        let rereadTimer: NodeJS.Timeout | undefined;
        await new Promise<void>((resolve) => {
          wake = resolve;
          rereadTimer = setTimeout(resolve, Math.max(0, rereadAt - performance.now()));
        });
        clearTimeout(rereadTimer);
        wake = () => undefined;
      }
      for (const msg of heard.splice(0)) follower.heard(msg);
      const confirm = follower.confirmFinish === true && follower.finished();
      if (confirm || performance.now() >= rereadAt) {
        await read();
        rereadAt = performance.now() + options.rereadMs;
      }
    }
    // The wait ran out: what was stored meanwhile and not heard (a caller gone needs none).
    if (!follower.finished() && signal?.aborted !== true) await read();
    return { lastReadError, subscriptionError };
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener("abort", onAbort);
    sub.unsubscribe();
  }
}

/**
 * The job's event a message on `subject` carries: undefined unless it is one of this job's, on
 * its kind's subject (as the projector takes events).
 */
export function jobEventOf(jobId: string, subject: string, data: Uint8Array): JobEvent | undefined {
  const parsed = parseJobEventJson(jsonOrUndefined(data));
  if (!parsed.success || parsed.data.jobId !== jobId) return undefined;
  return subject === Subject.event(jobId, parsed.data.kind) ? parsed.data : undefined;
}

/**
 * The newest stored event of each kind of the job, read from `EVENTS` with one direct get; one
 * whose headers cannot be read (its subject unknown) is left out.
 *
 * @param readTimeoutMs the wait's own deadline for a read ({@link FollowOptions}), which answers
 *   first: the direct get is given twice that, its own only ending the subscription
 */
export async function newestStoredEvents(
  nc: NatsConnection,
  jobId: string,
  readTimeoutMs: number,
): Promise<JobEvent[]> {
  const events: JobEvent[] = [];
  const stored = await newestStoredMessages(
    nc,
    StreamName.Events,
    Subject.eventsOf(jobId),
    2 * readTimeoutMs,
  );
  for (const { subject, data } of stored) {
    const event = subject === undefined ? undefined : jobEventOf(jobId, subject, data);
    if (event !== undefined) events.push(event);
  }
  return events;
}
