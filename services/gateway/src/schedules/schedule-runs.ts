import { KvBucket, readScheduleRun } from "@conveyor/contracts";
import type { RecurringSchedule } from "@conveyor/contracts";
import type { JetStreamManager } from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";
import type { KV } from "@nats-io/kv";

import type { ScheduleView } from "../schemas/schedules.ts";

/**
 * Reads recurring schedules' latest runs, which the dispatcher records at each tick in the
 * `conveyor-schedule-runs` bucket. The bucket is opened on first use, and again after a failure.
 */
export class ScheduleRuns {
  readonly #jsm: JetStreamManager;
  #kv: Promise<KV> | undefined;

  constructor(jsm: JetStreamManager) {
    this.#jsm = jsm;
  }

  /**
   * The schedule with its latest run, when it has ticked since it was stored: a run recorded for
   * the schedule a PUT replaced (another `updatedAt`) is not this one's.
   */
  async viewOf(schedule: RecurringSchedule): Promise<ScheduleView> {
    const entry = await (await this.#bucket()).get(schedule.name);
    const run = entry?.operation === "PUT" ? readScheduleRun(entry.value) : undefined;
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

  /** Forgets a deleted schedule's runs. */
  async forget(name: string): Promise<void> {
    await (await this.#bucket()).purge(name);
  }

  #bucket(): Promise<KV> {
    this.#kv ??= new Kvm(this.#jsm.jetstream())
      .open(KvBucket.ScheduleRuns)
      .catch((err: unknown) => {
        this.#kv = undefined;
        throw err;
      });
    return this.#kv;
  }
}
