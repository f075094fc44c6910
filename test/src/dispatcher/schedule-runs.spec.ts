import { KvBucket, readScheduleRun } from "@conveyor/contracts";
import type { ScheduleRun } from "@conveyor/contracts";
import { scheduleRuns } from "@conveyor/dispatcher";
import { Kvm } from "@nats-io/kv";
import { describe, expect, it } from "vitest";

import { useNatsSuite } from "../support/nats-suite.ts";

function runAt(at: string): ScheduleRun {
  return { scheduleUpdatedAt: "2026-12-07T10:00:00.000Z", lastRunAt: at, lastJobId: `n-${at}` };
}

describe("schedule runs in conveyor-schedule-runs", () => {
  const suite = useNatsSuite("schedule-runs-test");

  const stored = async (name: string) => {
    const kv = await new Kvm(suite.js).open(KvBucket.ScheduleRuns);
    const entry = await kv.get(name);
    return entry?.operation === "PUT" ? readScheduleRun(entry.value) : undefined;
  };

  it("keeps a later tick's run when an earlier tick, retried, is recorded after it", async () => {
    const runs = await scheduleRuns(suite.js);
    await runs.record("late", runAt("2026-12-07T10:00:02.000Z"));
    await runs.record("late", runAt("2026-12-07T10:00:01.000Z"));
    expect(await stored("late")).toMatchObject({ lastRunAt: "2026-12-07T10:00:02.000Z" });

    await runs.record("late", runAt("2026-12-07T10:00:03.000Z"));
    expect(await stored("late")).toMatchObject({ lastRunAt: "2026-12-07T10:00:03.000Z" });
  });

  it("records the run of a schedule whose earlier run was purged, and of two at once one", async () => {
    const runs = await scheduleRuns(suite.js);
    const kv = await new Kvm(suite.js).open(KvBucket.ScheduleRuns);
    await runs.record("again", runAt("2026-12-07T10:00:01.000Z"));
    await kv.purge("again");
    await runs.record("again", runAt("2026-12-07T10:00:02.000Z"));
    expect(await stored("again")).toMatchObject({ lastRunAt: "2026-12-07T10:00:02.000Z" });

    // Two dispatchers recording ticks of one schedule at once: the later run stays.
    await Promise.all([
      runs.record("both", runAt("2026-12-07T10:00:05.000Z")),
      runs.record("both", runAt("2026-12-07T10:00:04.000Z")),
    ]);
    expect(await stored("both")).toMatchObject({ lastRunAt: "2026-12-07T10:00:05.000Z" });
  });
});
