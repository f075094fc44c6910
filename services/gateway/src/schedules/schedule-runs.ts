import { KvBucket, readScheduleRun } from "@conveyor/contracts";
import type { RecurringSchedule, ScheduleRun } from "@conveyor/contracts";
import type { Logger } from "@conveyor/service-kit";
import type { JetStreamManager } from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";
import type { KV } from "@nats-io/kv";

import { withTimeout } from "../http/with-timeout.ts";
import type { ScheduleView } from "../schemas/schedules.ts";

/**
 * The schedule with its latest run, when it has ticked since it was stored: a run recorded for the
 * schedule a PUT replaced (another `updatedAt`) is not this one's.
 */
export type RunLookup = (schedule: RecurringSchedule) => Promise<ScheduleView>;

/** Longest a request waits for a schedule's latest run, in milliseconds. */
const runLookupMs = 1000;

/**
 * Reads recurring schedules' latest runs, which the dispatcher records at each tick in the
 * `conveyor-schedule-runs` bucket. The bucket is opened on first use, and again after a failure.
 * A run only informs: when it cannot be read in time, the schedule is answered without it (and
 * the failure logged) rather than not at all.
 */
export class ScheduleRuns {
  readonly #jsm: JetStreamManager;
  readonly #logger: Logger;
  #kv: Promise<KV> | undefined;

  constructor(jsm: JetStreamManager, logger: Logger) {
    this.#jsm = jsm;
    this.#logger = logger;
  }

  /**
   * A lookup of schedules' latest runs for one request: {@link RunLookup}. Once a run cannot be
   * read in time, the request's other schedules are answered without theirs at once (one warning),
   * so that a slow bucket does not hold a long list past its deadline.
   */
  lookup(): RunLookup {
    let unreadable = false;
    return async (schedule) => {
      if (unreadable) return schedule;
      let run: ScheduleRun | undefined;
      try {
        run = await withTimeout(this.#latestRun(schedule.name), runLookupMs, "the schedule's run");
      } catch (err) {
        if (!unreadable) this.#logger.warn({ err }, "schedules are answered without their runs");
        unreadable = true;
        return schedule;
      }
      return withRun(schedule, run);
    };
  }

  /**
   * Forgets a deleted schedule's latest run, if one is recorded. Left in place when that fails: a
   * schedule stored again under the name has another `updatedAt`, so the old run is not shown as
   * its own, and the bucket's max age removes it.
   */
  async forget(name: string): Promise<void> {
    try {
      const kv = await this.#bucket();
      if ((await kv.get(name))?.operation === "PUT") await kv.purge(name);
    } catch (err) {
      this.#logger.warn({ err, schedule: name }, "a deleted schedule's latest run is left");
    }
  }

  async #latestRun(name: string): Promise<ScheduleRun | undefined> {
    const entry = await (await this.#bucket()).get(name);
    return entry?.operation === "PUT" ? readScheduleRun(entry.value) : undefined;
  }

  #bucket(): Promise<KV> {
    this.#kv ??= new Kvm(this.#jsm.jetstream())
      .open(KvBucket.ScheduleRuns, { allow_direct: true })
      .catch((err: unknown) => {
        this.#kv = undefined;
        throw err;
      });
    return this.#kv;
  }
}

function withRun(schedule: RecurringSchedule, run: ScheduleRun | undefined): ScheduleView {
  if (run?.scheduleUpdatedAt !== schedule.updatedAt) return schedule;
  const { lastRunAt, lastJobId, lastRejectionId, nextRunAt } = run;
  return {
    ...schedule,
    lastRunAt,
    ...(lastJobId === undefined ? {} : { lastJobId }),
    ...(lastRejectionId === undefined ? {} : { lastRejectionId }),
    ...(nextRunAt === undefined ? {} : { nextRunAt }),
  };
}
