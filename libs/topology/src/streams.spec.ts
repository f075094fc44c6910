import { RetentionPolicy } from "@nats-io/jetstream";
import { describe, expect, it } from "vitest";

import { coreConsumers, workConsumer } from "./consumers.ts";
import { bucketSpecs } from "./kv-buckets.ts";
import { resolveTopologyOptions } from "./options.ts";
import { streamSpecs } from "./streams.ts";

const nanosPerMs = 1_000_000;

describe("streamSpecs", () => {
  const byName = (options = resolveTopologyOptions()) =>
    new Map(streamSpecs(options).map((s) => [s.name, s]));

  it("keeps submissions one hour for deduplication unless told otherwise", () => {
    expect(byName().get("JOBS")?.duplicate_window).toBe(3_600_000 * nanosPerMs);
    const custom = byName(resolveTopologyOptions({ jobsDuplicateWindowMs: 5_000 }));
    expect(custom.get("JOBS")?.duplicate_window).toBe(5_000 * nanosPerMs);
  });

  it("remembers work item ids as long as submissions, so a late re-dispatch collapses", () => {
    expect(byName().get("WORK")?.duplicate_window).toBe(3_600_000 * nanosPerMs);
    const custom = byName(resolveTopologyOptions({ workDuplicateWindowMs: 7_200_000 }));
    expect(custom.get("WORK")?.duplicate_window).toBe(7_200_000 * nanosPerMs);
  });

  it("remembers dead letter ids an hour, so a dead-lettering retried after a lasting failure stores one letter", () => {
    expect(byName().get("DLQ")?.duplicate_window).toBe(3_600_000 * nanosPerMs);
  });

  it("keeps submissions and events 7 days unless told otherwise", () => {
    const weekNanos = 7 * 24 * 3_600_000 * nanosPerMs;
    expect(byName().get("JOBS")?.max_age).toBe(weekNanos);
    expect(byName().get("EVENTS")?.max_age).toBe(weekNanos);
    const custom = byName(
      resolveTopologyOptions({ jobsMaxAgeMs: 2 * 3_600_000, eventsMaxAgeMs: 3_600_000 }),
    );
    expect(custom.get("JOBS")?.max_age).toBe(2 * 3_600_000 * nanosPerMs);
    expect(custom.get("EVENTS")?.max_age).toBe(3_600_000 * nanosPerMs);
    // Dead letters and advisories keep their own windows.
    expect(custom.get("DLQ")?.max_age).toBe(30 * 24 * 3_600_000 * nanosPerMs);
    expect(custom.get("ADVISORIES")?.max_age).toBe(weekNanos);
  });

  it("makes WORK and SCHEDULES workqueues and the others limits-retained", () => {
    const streams = byName();
    expect(streams.get("WORK")?.retention).toBe(RetentionPolicy.Workqueue);
    expect(streams.get("SCHEDULES")?.retention).toBe(RetentionPolicy.Workqueue);
    for (const name of ["JOBS", "EVENTS", "DLQ", "ADVISORIES"]) {
      expect(streams.get(name)?.retention).toBe(RetentionPolicy.Limits);
    }
  });

  it("serves direct gets from EVENTS only (the gateway's read of a job not projected yet)", () => {
    const streams = byName();
    expect(streams.get("EVENTS")?.allow_direct).toBe(true);
    for (const name of ["JOBS", "WORK", "SCHEDULES", "DLQ", "ADVISORIES"]) {
      expect(streams.get(name)?.allow_direct).toBe(false);
    }
  });

  it("holds scheduled jobs in SCHEDULES only, with message schedules, for as long as it takes", () => {
    const streams = byName();
    expect(streams.get("SCHEDULES")).toMatchObject({
      subjects: ["schedule.at.>", "schedule.due.>", "schedule.cron.>", "schedule.tick.>"],
      allow_msg_schedules: true,
      max_age: 0,
      duplicate_window: 3_600_000 * nanosPerMs,
    });
    for (const name of ["JOBS", "WORK", "EVENTS", "DLQ", "ADVISORIES"]) {
      expect(streams.get(name)?.allow_msg_schedules).toBeUndefined();
    }
  });

  it("takes single and bulk submissions and commands into JOBS", () => {
    expect(byName().get("JOBS")?.subjects).toEqual(["jobs.submit.>", "jobs.bulk.>", "jobs.cmd.>"]);
  });

  it("captures only the work stream's max-deliveries and terminated advisories", () => {
    expect(byName().get("ADVISORIES")?.subjects).toEqual([
      "$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.WORK.>",
      "$JS.EVENT.ADVISORY.CONSUMER.MSG_TERMINATED.WORK.>",
    ]);
  });

  it("keeps dead letters and the log of their replays and discards in DLQ", () => {
    expect(byName().get("DLQ")?.subjects).toEqual(["dlq.>", "dlq-log.>"]);
  });

  it("applies the replica count to every stream", () => {
    const specs = streamSpecs(resolveTopologyOptions({ replicas: 3 }));
    expect(specs.map((s) => s.num_replicas)).toEqual([3, 3, 3, 3, 3, 3]);
  });
});

describe("consumers", () => {
  it("leaves the deliveries of intake, commands, due jobs and ticks unlimited: the dispatcher decides when to give up", () => {
    const byName = new Map(coreConsumers().map((c) => [c.config.durable_name, c.config]));
    // Explicit, so that a consumer made with an earlier cap is updated.
    expect(byName.get("dispatcher-intake")?.max_deliver).toBe(-1);
    expect(byName.get("dispatcher-bulk-intake")?.max_deliver).toBe(-1);
    expect(byName.get("dispatcher-commands")?.max_deliver).toBe(-1);
    // A due scheduled job, or a recurring schedule's tick, is never given up on.
    expect(byName.get("dispatcher-schedules")?.max_deliver).toBeUndefined();
    expect(byName.get("dispatcher-recurring")?.max_deliver).toBeUndefined();
  });

  it("filters the intakes to single and bulk submissions, the commands to commands, the schedules to due jobs, the projector to events and dead letters, the dispatcher to max deliveries", () => {
    const filters = coreConsumers().map((c) => [
      c.stream,
      c.config.durable_name,
      c.config.filter_subjects ?? [c.config.filter_subject],
    ]);
    expect(filters).toEqual([
      ["JOBS", "dispatcher-intake", ["jobs.submit.>"]],
      ["JOBS", "dispatcher-bulk-intake", ["jobs.bulk.>"]],
      ["JOBS", "dispatcher-commands", ["jobs.cmd.>"]],
      ["SCHEDULES", "dispatcher-schedules", ["schedule.due.>"]],
      ["SCHEDULES", "dispatcher-recurring", ["schedule.tick.>"]],
      ["EVENTS", "status-projector", ["events.>"]],
      ["DLQ", "status-projector-dlq", ["dlq.>", "dlq-log.>"]],
      [
        "ADVISORIES",
        "dispatcher-advisories",
        ["$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.WORK.>"],
      ],
    ]);
  });

  it("names a work consumer after its type with dots replaced", () => {
    const { stream, config } = workConsumer("email.send", { ackWaitMs: 10_000 });
    expect(stream).toBe("WORK");
    expect(config).toMatchObject({
      durable_name: "work_email_send",
      filter_subject: "work.email.send",
      ack_wait: 10_000 * nanosPerMs,
      max_deliver: 100,
    });
  });
});

describe("bucketSpecs", () => {
  it("keeps job types forever, cancellations a week, schedules' runs 400 days and rate limits' counts two hours, one revision per key", () => {
    expect(bucketSpecs.map((b) => [b.name, b.history, b.maxAgeMs])).toEqual([
      ["conveyor-job-types", 1, 0],
      ["conveyor-cancellations", 1, 7 * 24 * 3_600_000],
      ["conveyor-schedule-runs", 1, 400 * 24 * 3_600_000],
      // Longer than the longest window of a rate limit, an hour.
      ["conveyor-rate-limits", 1, 2 * 3_600_000],
    ]);
  });
});
