import { KvBucket, readScheduleRun } from "@conveyor/contracts";
import type { ScheduleRun } from "@conveyor/contracts";
import type { JetStreamClient } from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";

import { putUnlessSuperseded } from "./put-unless.ts";

/** Records recurring schedules' latest runs, by name, in the `conveyor-schedule-runs` bucket. */
export interface ScheduleRuns {
  record(name: string, run: ScheduleRun): Promise<void>;
}

export async function scheduleRuns(js: JetStreamClient): Promise<ScheduleRuns> {
  const kv = await new Kvm(js).open(KvBucket.ScheduleRuns, { allow_direct: true });
  return {
    async record(name, run) {
      // A tick retried after a later one was submitted does not put its earlier run back.
      const later = (stored: ScheduleRun) =>
        Date.parse(stored.lastRunAt) >= Date.parse(run.lastRunAt);
      await putUnlessSuperseded(kv, name, JSON.stringify(run), readScheduleRun, later);
    },
  };
}
