import { randomBytes } from "node:crypto";

import { Subject, deadLetterMsgId, workConsumerName } from "@conveyor/contracts";
import type { DeadEvent, DeadLetter, WorkItem } from "@conveyor/contracts";
import { createDeadLetterer } from "@conveyor/dispatcher";
import type { DeadLetterer, DeadLettererOptions } from "@conveyor/dispatcher";
import { createLogger } from "@conveyor/service-kit";
import { uniqueName, waitFor } from "@conveyor/testing";
import { headers as natsHeaders } from "@nats-io/transport-node";
import { afterEach, describe, expect, it } from "vitest";

import { storedMessages } from "../dispatcher/stream-reader.ts";
import { consumerSettled, useNatsSuite } from "../support/nats-suite.ts";
import { publishRawHeaders } from "../support/raw-publish.ts";
import {
  advisorySubject,
  capturedAdvisories,
  crashOnEveryDelivery,
  ensureImpatientConsumer,
  publishWork,
  testMaxDeliver,
} from "./exhausted-work.ts";
import type { QueuedWork } from "./exhausted-work.ts";

/** A job type no other test uses. */
const uniqueType = () => `crash.t${randomBytes(4).toString("hex")}`;

describe("dead letters from max deliveries", () => {
  const suite = useNatsSuite("dead-letters-test");
  let running: DeadLetterer | undefined;
  /** What the dead-letterer told its observer, as `<type>:<found by>`. */
  const observed: string[] = [];

  afterEach(async () => {
    await running?.stop();
    running = undefined;
    observed.length = 0;
  });

  /** Starts the dispatcher's dead-letterer; without `scanIntervalMs` it never scans by itself. */
  const startDeadLetterer = async (options: DeadLettererOptions = {}) => {
    running = await createDeadLetterer({
      js: suite.js,
      jsm: suite.jsm,
      tracing: suite.tracing,
      logger: createLogger("dead-letters-test", "silent"),
      options: { scanIntervalMs: 0, pullExpiresMs: 1000, ...options },
      observer: { deadLettered: (type, foundBy) => observed.push(`${type}:${foundBy}`) },
    });
    return running;
  };

  const lettersOf = async (type: string) =>
    (await storedMessages(suite.jsm, "DLQ", (s) => s === `dlq.${type}`)).map((m) => ({
      msg: m,
      body: m.json<DeadLetter>(),
    }));

  const deadEventsOf = async (jobId: string) =>
    (await storedMessages(suite.jsm, "EVENTS", (s) => s === `events.${jobId}.dead`)).map((m) =>
      m.json<DeadEvent>(),
    );

  const advisoriesSettled = () =>
    consumerSettled(suite.jsm, "ADVISORIES", "dispatcher-advisories", {
      message: "advisories never all acknowledged",
    });

  const inWork = async (seq: number) =>
    (await suite.jsm.streams.getMessage("WORK", { seq })) !== null;

  /** Waits for the job's dead letter and checks everything the dispatcher records for it. */
  async function expectDeadLettered(type: string, queued: QueuedWork): Promise<void> {
    const jobId = queued.item.id;
    const [letter] = await waitFor(
      async () => {
        const found = await lettersOf(type);
        return found.length > 0 && found;
      },
      { message: `no dead letter for ${jobId}` },
    );
    const [event] = await waitFor(
      async () => {
        const found = await deadEventsOf(jobId);
        return found.length > 0 && found;
      },
      { message: `no dead event for ${jobId}` },
    );
    await waitFor(async () => !(await inWork(queued.seq)), {
      message: "the work message was not removed",
    });

    expect(letter!.body).toMatchObject({
      type,
      jobId,
      run: 1,
      workItem: queued.item,
      reason: "attempts_exhausted",
      attempts: testMaxDeliver,
      source: {
        stream: "WORK",
        subject: Subject.work(type, queued.item.priority),
        seq: queued.seq,
      },
      traceId: queued.traceId,
    });
    expect(letter!.body.error.message).toContain(`max deliveries reached (${testMaxDeliver})`);
    expect(letter!.msg.header.get("Nats-Msg-Id")).toBe(`${jobId}:1:dead`);
    expect(letter!.msg.header.get("Conveyor-Job-Id")).toBe(jobId);
    expect(letter!.msg.header.get("traceparent")).toContain(`00-${queued.traceId}-`);

    expect(event).toMatchObject({
      kind: "dead",
      jobId,
      type,
      run: 1,
      attempt: testMaxDeliver,
      reason: "attempts_exhausted",
      traceId: queued.traceId,
    });
  }

  it("dead-letters a job whose every delivery went unacknowledged, and removes it from WORK", async () => {
    const type = uniqueType();
    await ensureImpatientConsumer(suite.jsm, type);
    await startDeadLetterer();
    const queued = await publishWork(suite.js, type, uniqueName("job"), { to: "a@example.com" });

    await crashOnEveryDelivery(suite.js, suite.jsm, type);

    await expectDeadLettered(type, queued);
    await advisoriesSettled();
    expect(await lettersOf(type)).toHaveLength(1);
    expect(observed).toEqual([`${type}:advisory`]);
  });

  it("dead-letters a job of another priority than the default from its lane's advisory", async () => {
    const type = uniqueType();
    await ensureImpatientConsumer(suite.jsm, type);
    await startDeadLetterer();
    const queued = await publishWork(suite.js, type, uniqueName("job"), { n: 9 }, 9);

    await crashOnEveryDelivery(suite.js, suite.jsm, type, { priority: 9 });

    await expectDeadLettered(type, queued);
    await advisoriesSettled();
    expect(observed).toEqual([`${type}:advisory`]);
  });

  it("dead-letters a job whose work message has headers nats.js cannot read, from its body alone", async () => {
    const type = uniqueType();
    await ensureImpatientConsumer(suite.jsm, type);
    await startDeadLetterer();
    const jobId = uniqueName("job");
    const item: WorkItem = {
      id: jobId,
      type,
      payload: { n: 1 },
      priority: 5,
      maxAttempts: 4,
      timeoutMs: 1_000,
      submittedAt: new Date().toISOString(),
      run: 1,
    };
    // A header name with a space: other clients send it, nats.js throws on reading it.
    await publishRawHeaders(suite.server.url, `work.${type}`, ["bad key: x"], JSON.stringify(item));
    const seq = (await suite.jsm.streams.info("WORK")).state.last_seq;

    await crashOnEveryDelivery(suite.js, suite.jsm, type);

    const [letter] = await waitFor(
      async () => {
        const found = await lettersOf(type);
        return found.length > 0 && found;
      },
      { message: `no dead letter for ${jobId}` },
    );
    expect(letter!.body).toMatchObject({
      type,
      jobId,
      workItem: item,
      reason: "attempts_exhausted",
    });
    await waitFor(async () => (await deadEventsOf(jobId)).length === 1, {
      message: `no dead event for ${jobId}`,
    });
    await waitFor(async () => !(await inWork(seq)), {
      message: "the work message was not removed",
    });
    await advisoriesSettled();
  });

  it("dead-letters on start what ran out of deliveries while the dispatcher was down", async () => {
    const type = uniqueType();
    await ensureImpatientConsumer(suite.jsm, type);
    const queued = await publishWork(suite.js, type, uniqueName("job"));

    await crashOnEveryDelivery(suite.js, suite.jsm, type);
    // Nobody handled it yet: the message waits in WORK and the advisory in ADVISORIES.
    expect(await inWork(queued.seq)).toBe(true);
    expect(await lettersOf(type)).toHaveLength(0);

    await startDeadLetterer();
    await expectDeadLettered(type, queued);
    await advisoriesSettled();
  });

  it("records one dead letter and one dead event when the advisory arrives twice", async () => {
    const type = uniqueType();
    await ensureImpatientConsumer(suite.jsm, type);
    const queued = await publishWork(suite.js, type, uniqueName("job"));
    await crashOnEveryDelivery(suite.js, suite.jsm, type);
    const [advisory] = await capturedAdvisories(suite.jsm, type);
    // The same advisory again, as a repeated capture would store it.
    suite.nc.publish(advisorySubject(type), advisory!.data);
    await waitFor(async () => (await capturedAdvisories(suite.jsm, type)).length === 2);

    await startDeadLetterer();
    await expectDeadLettered(type, queued);
    await advisoriesSettled();
    expect(await lettersOf(type)).toHaveLength(1);
    expect(await deadEventsOf(queued.item.id)).toHaveLength(1);
    expect(observed).toEqual([`${type}:advisory`]);
  });

  it("leaves alone a job that an advisory names but does not describe: another consumer's, or stored after it", async () => {
    const type = uniqueType();
    const other = uniqueType();
    await ensureImpatientConsumer(suite.jsm, type);
    const advisory = (consumer: string, seq: number) =>
      JSON.stringify({
        type: "io.nats.jetstream.advisory.v1.max_deliver",
        stream: "WORK",
        consumer,
        stream_seq: seq,
        deliveries: testMaxDeliver,
      });
    // Misdirected: it names a job of `type`, and a consumer that delivers `other`.
    const queued = await publishWork(suite.js, type, uniqueName("job"));
    suite.nc.publish(advisorySubject(other), advisory(workConsumerName(other), queued.seq));
    // Stale: captured before the job at its sequence was stored, as one left from before WORK
    // was provisioned anew (its sequences start again at 1).
    const next = (await suite.jsm.streams.info("WORK")).state.last_seq + 1;
    suite.nc.publish(advisorySubject(type), advisory(workConsumerName(type), next));
    await waitFor(async () => (await capturedAdvisories(suite.jsm, type)).length === 1);
    await waitFor(async () => (await capturedAdvisories(suite.jsm, other)).length === 1);
    const later = await publishWork(suite.js, type, uniqueName("job"));
    expect(later.seq).toBe(next);

    await startDeadLetterer();
    await advisoriesSettled();
    expect(await inWork(queued.seq)).toBe(true);
    expect(await inWork(later.seq)).toBe(true);
    expect(await lettersOf(type)).toHaveLength(0);
    expect(observed).toEqual([]);
  });

  it("keeps one dead letter when a worker dead-lettered the job but died before removing it", async () => {
    const type = uniqueType();
    await ensureImpatientConsumer(suite.jsm, type);
    const queued = await publishWork(suite.js, type, uniqueName("job"));
    const workerLetter: DeadLetter = {
      type,
      jobId: queued.item.id,
      run: 1,
      workItem: queued.item,
      error: { name: "JobFailure", message: "the worker's own failure" },
      reason: "non_retryable",
      attempts: 1,
      deadAt: new Date().toISOString(),
      source: { stream: "WORK", subject: `work.${type}`, seq: queued.seq },
      workerId: "worker-1",
    };
    await suite.js.publish(`dlq.${type}`, JSON.stringify(workerLetter), {
      msgID: deadLetterMsgId(workerLetter),
      headers: natsHeaders(),
    });

    await crashOnEveryDelivery(suite.js, suite.jsm, type);
    await startDeadLetterer();
    await waitFor(async () => !(await inWork(queued.seq)), {
      message: "the work message was not removed",
    });
    await advisoriesSettled();

    const letters = await lettersOf(type);
    expect(letters).toHaveLength(1);
    expect(letters[0]!.body.error.message).toBe("the worker's own failure");
    // The worker counted this job's death as its `dead` attempt.
    expect(observed).toEqual([]);
  });

  it("finds a job whose advisory was lost by scanning WORK at start", async () => {
    const type = uniqueType();
    await ensureImpatientConsumer(suite.jsm, type);
    const queued = await publishWork(suite.js, type, uniqueName("job"));
    await crashOnEveryDelivery(suite.js, suite.jsm, type);
    await suite.jsm.streams.purge("ADVISORIES", { filter: advisorySubject(type) });

    await startDeadLetterer({ scanIntervalMs: 60_000 });
    await expectDeadLettered(type, queued);
    expect(observed).toEqual([`${type}:scan`]);
  });

  it("leaves stranded jobs alone while their consumer has deliveries in flight", async () => {
    const type = uniqueType();
    await ensureImpatientConsumer(suite.jsm, type);
    const stranded = await publishWork(suite.js, type, uniqueName("job"));
    const inFlight = await publishWork(suite.js, type, uniqueName("job"));
    const [held] = await crashOnEveryDelivery(suite.js, suite.jsm, type, {
      hold: (msg) => msg.seq === inFlight.seq,
    });
    await suite.jsm.streams.purge("ADVISORIES", { filter: advisorySubject(type) });
    const deadLetterer = await startDeadLetterer();

    const first = await deadLetterer.reconcile();
    expect(first).toMatchObject({ deadLettered: 0, deferred: 1, failed: 0 });
    expect(await inWork(stranded.seq)).toBe(true);
    expect(await inWork(inFlight.seq)).toBe(true);

    // The in-flight job finishes; now the one left over can only be stranded.
    await held!.finish();
    const second = await deadLetterer.reconcile();
    expect(second).toMatchObject({ deadLettered: 1, deferred: 0, failed: 0 });
    await expectDeadLettered(type, stranded);
    expect(await deadEventsOf(inFlight.item.id)).toHaveLength(0);
  });
});
