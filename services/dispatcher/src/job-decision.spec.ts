import { buildDescriptor } from "@conveyor/job-registry";
import { Tracing } from "@conveyor/telemetry";
import { describe, expect, it } from "vitest";

import { QueuedEventMissing } from "./intake-failure.ts";
import { decideEnvelope, publishJob } from "./job-decision.ts";
import type { Decision, EnvelopeFacts } from "./job-decision.ts";
import { DispatchPublisher } from "./publisher.ts";

const echo = buildDescriptor({ type: "echo" });
const tracing = Tracing.create({ serviceName: "job-decision-test" });
const storedAt = new Date("2026-12-07T10:00:00.000Z");
const dayMs = 86_400_000;

function decide(envelope: Record<string, unknown>, now = storedAt): Decision {
  const facts: EnvelopeFacts = {
    subjectType: "echo",
    source: "nats",
    fallbackId: () => "job-1",
    storedAt,
    rawPreview: () => JSON.stringify(envelope),
  };
  const registry = { get: (type: string) => (type === "echo" ? echo : undefined) };
  return decideEnvelope(
    envelope,
    facts,
    { registry, tracing, now: () => now },
    tracing.extract(undefined),
  );
}

function dispatched(decision: Decision): Extract<Decision, { kind: "dispatch" }> {
  if (decision.kind !== "dispatch") throw new Error(`refused: ${decision.refusal.message}`);
  return decision;
}

describe("decideEnvelope's schedule", () => {
  it("queues a job without a schedule, or one due by when it was stored, at once", () => {
    for (const envelope of [
      {},
      { delayMs: 0 },
      { runAt: storedAt.toISOString() },
      { runAt: "2026-12-07T09:00:00Z" },
    ]) {
      const decision = dispatched(decide(envelope));
      expect(decision.runAt, JSON.stringify(envelope)).toBeUndefined();
      expect(decision.event.runAt).toBeUndefined();
    }
  });

  it("holds a job due after it was stored, counting delayMs from then, and says when in its queued event", () => {
    const decision = dispatched(decide({ delayMs: 1500 }));
    expect(decision.runAt?.toISOString()).toBe("2026-12-07T10:00:01.500Z");
    expect(decision.event.runAt).toBe("2026-12-07T10:00:01.500Z");
    expect(decision.item.submittedAt).toBe(storedAt.toISOString());
  });

  it("decides by when the submission was stored, not the dispatcher's clock: a redelivery after the time holds it again", () => {
    const later = new Date(storedAt.getTime() + 60_000);
    const first = dispatched(decide({ runAt: "2026-12-07T10:00:30Z" }));
    const redelivered = dispatched(decide({ runAt: "2026-12-07T10:00:30Z" }, later));
    expect(redelivered.runAt).toEqual(first.runAt);
    expect(redelivered.event.runAt).toBe(first.event.runAt);
  });

  it("refuses a runAt more than a year after the submission was stored (and an hour for clocks), naming it", () => {
    const limit = storedAt.getTime() + 365 * dayMs + 3_600_000;
    expect(dispatched(decide({ runAt: new Date(limit).toISOString() })).runAt?.getTime()).toBe(
      limit,
    );
    for (const runAt of [new Date(limit + 1).toISOString(), "9999-12-31T23:59:59Z"]) {
      const decision = decide({ runAt });
      expect(decision.kind).toBe("reject");
      if (decision.kind !== "reject") return;
      expect(decision.refusal.reason).toBe("invalid_envelope");
      expect(decision.refusal.issues.map((issue) => issue.path)).toEqual(["runAt"]);
    }
  });

  it("keeps a held job queued, never rejected, when whether a cancel came first cannot be read", async () => {
    const decision = dispatched(decide({ delayMs: 1500 }));
    const sink = { publish: () => Promise.resolve({ stream: "S", seq: 1, duplicate: false }) };
    const publisher = new DispatchPublisher(sink, tracing);
    const holds = { dropIfCancelled: () => Promise.reject(new Error("KV timeout")) };
    const published = publishJob({ publisher, holds }, tracing.extract(undefined), decision);
    await expect(published).rejects.toBeInstanceOf(QueuedEventMissing);
  });
});
