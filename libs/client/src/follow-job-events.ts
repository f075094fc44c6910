import { Subject } from "@conveyor/contracts";
import type { Msg, NatsConnection } from "@nats-io/transport-node";

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
}

/**
 * Follows one job until `follower` says it finished, `timeoutMs` passes or `signal` aborts.
 * Subscribes to the job's events (`events.<id>.*`) and reads what is stored only once the server
 * has the subscription, so an event is either stored by then or heard; reads again every
 * `rereadMs`, and once more at the end if the job has not finished. Resolves with the error of the
 * last read when it failed (`undefined` when it succeeded), for the caller to judge.
 */
export async function followJobEvents(
  nc: NatsConnection,
  jobId: string,
  follower: JobEventsFollower,
  options: FollowOptions,
): Promise<Error | undefined> {
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
  void sub.closed.then(onAbort, onAbort);
  const over = () => timedOut || signal?.aborted === true || sub.isClosed();
  let lastReadError: Error | undefined;
  const read = async () => {
    try {
      await follower.read();
      lastReadError = undefined;
    } catch (err) {
      lastReadError = err instanceof Error ? err : new Error(String(err));
    }
  };
  try {
    await nc.flush();
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
    // The wait ran out: what was stored meanwhile and not heard.
    if (!follower.finished()) await read();
    return lastReadError;
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener("abort", onAbort);
    sub.unsubscribe();
  }
}
