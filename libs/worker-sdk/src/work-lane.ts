import type { Consumer } from "@nats-io/jetstream";

/**
 * One priority of one job type as a worker pulls it: the lane's durable consumer, and what the
 * worker knows of it from its last pulls.
 */
export interface WorkLane {
  readonly priority: number;
  consumer: Consumer;
  /**
   * Jobs known to wait in the lane beyond what open pulls asked for: the server's count carried
   * by the last message delivered, less what was asked for since; 0 when none are known to.
   */
  waiting: number;
  /** Whether a pull of the lane is open (one at a time per lane). */
  pulling: boolean;
  /** Jobs the open pull may still bring (none when no pull is open). */
  open: number;
  /**
   * Of those, the jobs known to wait, counted against the worker's free slots until they come:
   * while there are some, the lane's jobs go before any lower lane's (`claimedPriority`).
   */
  reserved: number;
  /**
   * How many jobs a pull asks for when none are known to wait: doubled each time such a pull comes
   * back full, down to what it brought when it ran out (a lane that gets a steady flow of jobs
   * pulls many at once, one that gets a job now and then one).
   */
  listenSize: number;
  /** When the lane last brought a job (`performance.now()` time), -Infinity before its first. */
  lastDeliveryAt: number;
  /** Pulls failed in a row, and when the next may be tried (`Date.now()` time). */
  failures: number;
  retryAt: number;
}

export function newWorkLane(priority: number, consumer: Consumer, waiting = 0): WorkLane {
  return {
    priority,
    consumer,
    waiting: Math.max(0, waiting),
    pulling: false,
    open: 0,
    reserved: 0,
    listenSize: 1,
    lastDeliveryAt: -Infinity,
    failures: 0,
    retryAt: 0,
  };
}

/**
 * The highest priority whose jobs are known to wait in `WORK` or are being pulled, `-Infinity`
 * when none: no job of a lower priority starts before them.
 */
export function claimedPriority(lanes: readonly WorkLane[]): number {
  let claimed = -Infinity;
  for (const lane of lanes) {
    if (lane.waiting > 0 || lane.reserved > 0) claimed = Math.max(claimed, lane.priority);
  }
  return claimed;
}

/** The next listen size after a pull that asked for `asked` jobs and brought `received`. */
export function nextListenSize(asked: number, received: number, most: number): number {
  if (received >= asked) return Math.min(most, Math.max(1, asked * 2));
  return Math.max(1, received);
}
