import { ConsumerName, StreamName } from "@conveyor/contracts";
import { RetentionPolicy } from "@nats-io/jetstream";
import { prepareStackTopology } from "@conveyor/stack";
import { ensureTopology, verifyTopology } from "@conveyor/topology";
import { beforeEach, describe, expect, it } from "vitest";

import { useNatsSuite } from "../support/nats-suite.ts";

const hourMs = 3_600_000;
const nanos = (ms: number) => ms * 1_000_000;
/** What `npm start` asks for by default: a week of events. */
const stackDefaults = { eventsMaxAgeMs: 168 * hourMs, jobsMaxAgeMs: 168 * hourMs };

describe("the stack's topology (npm start)", () => {
  const suite = useNatsSuite("stack-topology");

  beforeEach(async () => {
    for await (const name of suite.jsm.streams.names()) await suite.jsm.streams.delete(name);
    // As an operator provisioned it: a day of events.
    await ensureTopology(suite.jsm, { eventsMaxAgeMs: 24 * hourMs });
  });

  const eventsMaxAge = async () => (await suite.jsm.streams.info(StreamName.Events)).config.max_age;

  it("keeps the complete topology of servers it was pointed at (NATS_URL) as provisioned", async () => {
    expect(await prepareStackTopology(suite.jsm, stackDefaults, false)).toBe("kept");
    expect(await eventsMaxAge()).toBe(nanos(24 * hourMs));
  });

  it("creates what is missing on servers it was pointed at", async () => {
    await suite.jsm.streams.delete(StreamName.Work);
    expect(await prepareStackTopology(suite.jsm, stackDefaults, false)).toBe("completed");
    expect((await suite.jsm.streams.info(StreamName.Work)).config.name).toBe(StreamName.Work);
    // What was there stays as provisioned.
    expect(await eventsMaxAge()).toBe(nanos(24 * hourMs));
  });

  it("adds the subjects and direct gets an older stream of servers it was pointed at lacks", async () => {
    const jobs = await suite.jsm.streams.info(StreamName.Jobs);
    const older = { ...jobs.config, subjects: ["jobs.submit.>", "jobs.cmd.>"] };
    await suite.jsm.streams.update(StreamName.Jobs, older);
    const events = await suite.jsm.streams.info(StreamName.Events);
    await suite.jsm.streams.update(StreamName.Events, { ...events.config, allow_direct: false });

    expect(await prepareStackTopology(suite.jsm, stackDefaults, false)).toBe("completed");
    expect((await suite.jsm.streams.info(StreamName.Jobs)).config.subjects).toEqual([
      "jobs.submit.>",
      "jobs.cmd.>",
      "jobs.bulk.>",
    ]);
    const updated = await suite.jsm.streams.info(StreamName.Events);
    expect(updated.config.allow_direct).toBe(true);
    // The rest stays as provisioned.
    expect(updated.config.max_age).toBe(nanos(24 * hourMs));
    await verifyTopology(suite.jsm);
  });

  it("completes a deployment of a release before scheduled jobs: SCHEDULES, its schedules and the dispatcher's mailbox", async () => {
    await suite.jsm.streams.delete(StreamName.Schedules);
    expect(await prepareStackTopology(suite.jsm, stackDefaults, false)).toBe("completed");
    const schedules = await suite.jsm.streams.info(StreamName.Schedules);
    expect(schedules.config.allow_msg_schedules).toBe(true);
    await suite.jsm.consumers.info(StreamName.Schedules, ConsumerName.DispatcherSchedules);
    await suite.jsm.consumers.info(StreamName.Schedules, ConsumerName.DispatcherRecurring);
    await verifyTopology(suite.jsm);

    // A SCHEDULES provisioned without schedules (by hand) gets them; its messages stay.
    await suite.jsm.streams.delete(StreamName.Schedules);
    await suite.jsm.streams.add({
      name: StreamName.Schedules,
      subjects: ["schedule.at.>", "schedule.due.>", "schedule.cron.>", "schedule.tick.>"],
      retention: RetentionPolicy.Workqueue,
    });
    await expect(verifyTopology(suite.jsm)).rejects.toThrow(
      /allow_msg_schedules of stream SCHEDULES/,
    );
    expect(await prepareStackTopology(suite.jsm, stackDefaults, false)).toBe("completed");
    expect((await suite.jsm.streams.info(StreamName.Schedules)).config.allow_msg_schedules).toBe(
      true,
    );
    await verifyTopology(suite.jsm);
  });

  it("brings its own server's topology to its configuration", async () => {
    expect(await prepareStackTopology(suite.jsm, stackDefaults, true)).toBe("ensured");
    expect(await eventsMaxAge()).toBe(nanos(168 * hourMs));
  });
});
