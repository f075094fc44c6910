import { Subject } from "@conveyor/contracts";
import type { RecurringSchedule, ScheduleRun } from "@conveyor/contracts";
import { buildDescriptor } from "@conveyor/job-registry";
import { createLogger } from "@conveyor/service-kit";
import { Tracing } from "@conveyor/telemetry";
import type { JsMsg, PubAck } from "@nats-io/jetstream";
import { InvalidArgumentError, TimeoutError } from "@nats-io/transport-node";
import { describe, expect, it } from "vitest";

import { DispatchPublisher } from "./publisher.ts";
import { submitTick } from "./recurring-mailbox.ts";
import { RetryBudget } from "./retry-budget.ts";
import type { TickDeps } from "./recurring-mailbox.ts";

const echo = buildDescriptor({ type: "echo" });
const tickAt = new Date("2026-12-07T10:00:00.000Z");

function schedule(overrides: Partial<RecurringSchedule> = {}): RecurringSchedule {
  return {
    name: "nightly",
    cron: "@daily",
    job: { type: "echo", payload: null, priority: 5 },
    source: "rest",
    updatedAt: tickAt.toISOString(),
    ...overrides,
  };
}

/** A tick as the dispatcher receives it, recording how it was settled. */
function tick(body: unknown, deliveryCount = 1, name = "nightly", next?: string) {
  const settled: string[] = [];
  const msg = {
    subject: Subject.recurringTick(name),
    seq: 7,
    data: new TextEncoder().encode(JSON.stringify(body)),
    headers:
      next === undefined
        ? undefined
        : { get: (key: string) => (key === "Nats-Schedule-Next" ? next : "") },
    time: tickAt,
    info: { deliveryCount },
    ack: () => settled.push("ack"),
    nak: (delayMs?: number) => settled.push(`nak ${String(delayMs)}`),
  } as unknown as JsMsg;
  return { msg, settled };
}

/**
 * The dispatcher's deps over a stream that stores what `refuse` does not throw for, and a record
 * of schedules' runs that fails to write when `runsAway`.
 */
function deps(refuse: (subject: string) => Error | undefined = () => undefined, runsAway = false) {
  const stored: { subject: string; body: Record<string, unknown> }[] = [];
  const runs = new Map<string, ScheduleRun>();
  const sink = {
    publish(subject: string, data: string | Uint8Array): Promise<PubAck> {
      const refusal = refuse(subject);
      if (refusal !== undefined) return Promise.reject(refusal);
      stored.push({ subject, body: JSON.parse(String(data)) as Record<string, unknown> });
      return Promise.resolve({ stream: "S", seq: stored.length, duplicate: false } as PubAck);
    },
  };
  const tracing = Tracing.create({ serviceName: "recurring-test" });
  const tickDeps: TickDeps = {
    maxSubmissionBytes: 256 * 1024,
    giveUpAfter: 3,
    budget: new RetryBudget(3),
    registry: {
      get: (type) => (type === "echo" ? echo : undefined),
      lookup: (type) => Promise.resolve(type === "echo" ? echo : undefined),
    },
    tracing,
    publisher: new DispatchPublisher(sink, tracing),
    holds: { dropIfCancelled: () => Promise.resolve(false) },
    runs: {
      record: (name, run) => {
        if (runsAway) return Promise.reject(new Error("timeout"));
        runs.set(name, run);
        return Promise.resolve();
      },
    },
    now: () => tickAt,
    log: createLogger("recurring-test", "silent"),
  };
  return { tickDeps, stored, runs };
}

const subjectsOf = (stored: { subject: string }[]) => stored.map((s) => s.subject);

describe("submitTick", () => {
  it("submits the schedule's job under its name and the tick's time, in its batch, and acknowledges", async () => {
    const { tickDeps, stored } = deps();
    const { msg, settled } = tick(schedule());
    await submitTick(msg, tickDeps);
    expect(settled).toEqual(["ack"]);
    const work = stored.find((s) => s.subject === Subject.work("echo"));
    expect(work?.body).toMatchObject({ id: "nightly-1796637600000", batchId: "nightly" });
    expect(work?.body.submittedAt).toBe(tickAt.toISOString());
  });

  it("records a tick whose body names another schedule than its subject, submitting nothing", async () => {
    const { tickDeps, stored } = deps();
    const { msg, settled } = tick(schedule({ name: "victim" }), 1, "impostor");
    await submitTick(msg, tickDeps);
    expect(settled).toEqual(["ack"]);
    expect(subjectsOf(stored)).toHaveLength(1);
    expect(stored[0]?.body).toMatchObject({ kind: "rejected", reason: "invalid_schedule" });
  });

  it("records a tick nested too deep to read instead of throwing on every delivery", async () => {
    const { tickDeps, stored } = deps();
    const { msg, settled } = tick({});
    (msg as { data: Uint8Array }).data = new TextEncoder().encode(
      `{"name":"nightly","job":{"type":"echo","payload":${"[".repeat(5000)}1${"]".repeat(5000)}}}`,
    );
    await submitTick(msg, tickDeps);
    expect(settled).toEqual(["ack"]);
    expect(stored[0]?.body).toMatchObject({ kind: "rejected", reason: "invalid_schedule" });
  });

  it("records a tick whose job can never be stored at once, and retries one that may yet be", async () => {
    const refused = deps((subject) =>
      subject === Subject.work("echo") ? new InvalidArgumentError("too big") : undefined,
    );
    const never = tick(schedule());
    await submitTick(never.msg, refused.tickDeps);
    expect(never.settled).toEqual(["ack"]);
    expect(refused.stored.map((s) => s.body.reason)).toContain("unprocessable");

    const failing = deps((subject) =>
      subject === Subject.work("echo") ? new Error("a defect") : undefined,
    );
    const early = tick(schedule(), 1);
    await submitTick(early.msg, failing.tickDeps);
    expect(early.settled).toEqual(["nak 1000"]);
    await submitTick(tick(schedule(), 2).msg, failing.tickDeps);
    // At its third failure of that kind, well within WORK's duplicate window, it is recorded and
    // let go.
    const late = tick(schedule(), 3);
    await submitTick(late.msg, failing.tickDeps);
    expect(late.settled).toEqual(["ack"]);
    expect(failing.stored.map((s) => s.body.reason)).toContain("unprocessable");
  });

  it("retries a tick through an outage of NATS however long it lasts, not counting its deliveries", async () => {
    let outage = true;
    const flaky = deps((subject) =>
      subject === Subject.work("echo")
        ? outage
          ? new TimeoutError()
          : new Error("a defect")
        : undefined,
    );
    const during = tick(schedule(), 50);
    await submitTick(during.msg, flaky.tickDeps);
    const rejections = () => flaky.stored.filter((s) => s.body.kind === "rejected");
    expect(during.settled).toEqual(["nak 30000"]);
    expect(rejections()).toEqual([]);
    // Once NATS answers, a failure of another kind still gets its retries.
    outage = false;
    const after = tick(schedule(), 51);
    await submitTick(after.msg, flaky.tickDeps);
    expect(after.settled).toEqual(["nak 30000"]);
    expect(rejections()).toEqual([]);
  });

  it("lets a tick go whose job is queued though its queued event is not, once retried enough", async () => {
    const eventsAway = deps((subject) =>
      subject.startsWith("events.") ? new Error("timeout") : undefined,
    );
    const early = tick(schedule(), 1);
    await submitTick(early.msg, eventsAway.tickDeps);
    expect(early.settled).toEqual(["nak 1000"]);
    const late = tick(schedule(), 3);
    await submitTick(late.msg, eventsAway.tickDeps);
    expect(late.settled).toEqual(["ack"]);
    expect(subjectsOf(eventsAway.stored).every((s) => s === Subject.work("echo"))).toBe(true);
  });

  it("records the tick as its schedule's latest run, with the next time the scheduler gave", async () => {
    const { tickDeps, runs } = deps();
    const { msg } = tick(schedule(), 1, "nightly", "2026-12-08T10:00:00Z");
    await submitTick(msg, tickDeps);
    expect(runs.get("nightly")).toEqual({
      scheduleUpdatedAt: tickAt.toISOString(),
      lastRunAt: tickAt.toISOString(),
      lastJobId: "nightly-1796637600000",
      nextRunAt: "2026-12-08T10:00:00.000Z",
    });
  });

  it("records a tick whose job is refused as a run naming its rejection", async () => {
    const { tickDeps, runs } = deps();
    const refused = schedule({ job: { type: "no.such.type", payload: null, priority: 5 } });
    const { msg } = tick(refused, 1, "nightly", "2026-12-08T10:00:00Z");
    await submitTick(msg, tickDeps);
    expect(runs.get("nightly")).toMatchObject({
      lastRejectionId: expect.any(String) as unknown,
      nextRunAt: "2026-12-08T10:00:00.000Z",
    });
    expect(runs.get("nightly")).not.toHaveProperty("lastJobId");
  });

  it("records no next time from a tick whose Nats-Schedule-Next is no time", async () => {
    const { tickDeps, runs } = deps();
    await submitTick(tick(schedule(), 1, "nightly", "purge").msg, tickDeps);
    expect(runs.get("nightly")).toMatchObject({ lastJobId: "nightly-1796637600000" });
    expect(runs.get("nightly")).not.toHaveProperty("nextRunAt");
  });

  it("submits a tick whose headers cannot be read once, and records its run without a next time", async () => {
    const { tickDeps, runs, stored } = deps();
    const { msg, settled } = tick(schedule());
    // nats.js throws reading a header name another client sent with a space in it.
    Object.defineProperty(msg, "headers", {
      get: () => {
        throw new InvalidArgumentError("invalid header name: bad key");
      },
    });
    await submitTick(msg, tickDeps);
    expect(settled).toEqual(["ack"]);
    expect(
      subjectsOf(stored).filter((s) => s.startsWith("events.") && s.endsWith(".rejected")),
    ).toEqual([]);
    expect(runs.get("nightly")).toMatchObject({ lastJobId: "nightly-1796637600000" });
    expect(runs.get("nightly")).not.toHaveProperty("nextRunAt");
  });

  it("records no run for a tick that is no schedule of its name", async () => {
    const { tickDeps, runs } = deps();
    await submitTick(tick(schedule({ name: "victim" }), 1, "impostor").msg, tickDeps);
    expect([...runs.keys()]).toEqual([]);
  });

  it("acknowledges a submitted tick whose run cannot be recorded, not submitting it again", async () => {
    const { tickDeps, stored } = deps(() => undefined, true);
    const { msg, settled } = tick(schedule());
    await submitTick(msg, tickDeps);
    expect(settled).toEqual(["ack"]);
    expect(subjectsOf(stored)).toContain(Subject.work("echo"));
  });
});
