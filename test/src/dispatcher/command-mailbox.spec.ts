import type { DeadLetter, DeadLetterLogEntry, WorkItem } from "@conveyor/contracts";
import { createCommandMailbox } from "@conveyor/dispatcher";
import type { CommandMailbox, CommandMailboxOptions } from "@conveyor/dispatcher";
import { createLogger } from "@conveyor/service-kit";
import { Tracing } from "@conveyor/telemetry";
import { uniqueName, waitFor } from "@conveyor/testing";
import { ensureTopology } from "@conveyor/topology";
import { headers } from "@nats-io/transport-node";
import type { MsgHdrs } from "@nats-io/transport-node";
import { InMemorySpanExporter, SimpleSpanProcessor } from "@opentelemetry/sdk-trace";
import { afterEach, describe, expect, it } from "vitest";

import { consumerSettled, useNatsSuite } from "../support/nats-suite.ts";
import { sealStream } from "../support/sealed-stream.ts";
import { storedMessages } from "./stream-reader.ts";

describe("dispatcher command mailbox", () => {
  const suite = useNatsSuite("command-mailbox-test");
  let running: CommandMailbox | undefined;

  afterEach(async () => {
    await running?.stop();
    running = undefined;
  });

  const start = async (options: CommandMailboxOptions = {}, tracing = suite.tracing) => {
    running = await createCommandMailbox({
      js: suite.js,
      jsm: suite.jsm,
      tracing,
      logger: createLogger("command-mailbox-test", "silent"),
      options: { pullExpiresMs: 1000, ...options },
    });
    return running;
  };

  const commandsSettled = () =>
    consumerSettled(suite.jsm, "JOBS", "dispatcher-commands", {
      through: lastCommandSeq,
      message: "commands never all settled",
      timeoutMs: 15_000,
    });

  const publishLetter = async (jobId: string, body?: string): Promise<number> => {
    const item: WorkItem = {
      id: jobId,
      type: "echo",
      payload: { n: 1 },
      priority: 5,
      maxAttempts: 1,
      timeoutMs: 1000,
      submittedAt: new Date().toISOString(),
      run: 1,
    };
    const letter: DeadLetter = {
      type: "echo",
      jobId,
      run: 1,
      workItem: item,
      error: { message: "failed" },
      reason: "non_retryable",
      attempts: 1,
      deadAt: new Date().toISOString(),
      source: { stream: "WORK", subject: "work.echo", seq: 1 },
    };
    const ack = await suite.js.publish("dlq.echo", body ?? JSON.stringify(letter));
    return ack.seq;
  };

  /** The stream sequence of the newest command, which `commandsSettled` waits past. */
  let lastCommandSeq = 0;
  const command = async (verb: string, jobId: string, seq: number) => {
    const ack = await suite.js.publish(
      `jobs.cmd.${verb}.${jobId}`,
      JSON.stringify({ jobId, run: 1, seq, requestedAt: new Date().toISOString() }),
    );
    lastCommandSeq = Math.max(lastCommandSeq, ack.seq);
    return ack;
  };

  /** Publishes a cancel of run 1 of `jobId`, as the gateway does. */
  const cancel = async (jobId: string, requestHeaders?: MsgHdrs) => {
    const body = {
      jobId,
      type: "echo",
      run: 1,
      attempt: 0,
      reason: "no longer wanted",
      requestedAt: new Date().toISOString(),
    };
    const ack = await suite.js.publish(`jobs.cmd.cancel.${jobId}`, JSON.stringify(body), {
      ...(requestHeaders === undefined ? {} : { headers: requestHeaders }),
    });
    lastCommandSeq = Math.max(lastCommandSeq, ack.seq);
  };

  /** Deliveries the command consumer has made so far: unlike num_redelivered, it never resets. */
  const deliveries = async () =>
    (await suite.jsm.consumers.info("JOBS", "dispatcher-commands")).delivered.consumer_seq;

  const logOf = async (jobId: string) =>
    (await storedMessages(suite.jsm, "DLQ", (s) => s === `dlq-log.${jobId}`)).map((m) =>
      m.json<DeadLetterLogEntry>(),
    );

  /**
   * Runs `run` with `stream` refusing every message for a reason of its own (sealed: a 400
   * answer, not an outage), then puts a new one in its place.
   */
  const withStreamSealed = async (stream: string, run: () => Promise<void>) => {
    await sealStream(suite.jsm, stream);
    try {
      await run();
    } finally {
      await suite.jsm.streams.delete(stream);
      await ensureTopology(suite.jsm);
    }
  };

  it("gives up on a command that keeps failing, not for an outage, so it leaves the ack-pending set", async () => {
    await start({ giveUpAfterDeliveries: 2 });
    const jobId = uniqueName("job");
    const seq = await publishLetter(jobId);
    await withStreamSealed("WORK", async () => {
      const before = await deliveries();
      await command("replay", jobId, seq);
      await commandsSettled();
      // Tried again once (the failure may pass), then given up.
      expect((await deliveries()) - before).toBe(2);
    });
  });

  it("carries out a command through an outage longer than its give-up, once NATS can store it", async () => {
    await start({ giveUpAfterDeliveries: 2 });
    const jobId = uniqueName("cancel-outage");
    await suite.jsm.streams.delete("EVENTS");
    try {
      const before = await deliveries();
      await cancel(jobId);
      // Past the give-up: delivered 1 s, then 2 s after the first failures.
      await waitFor(async () => (await deliveries()) - before >= 3, {
        message: "the command was not delivered past its give-up",
      });
    } finally {
      await ensureTopology(suite.jsm);
    }
    await commandsSettled();
    const cancelled = await storedMessages(
      suite.jsm,
      "EVENTS",
      (s) => s === `events.${jobId}.cancelled`,
    );
    expect(cancelled).toHaveLength(1);
  });

  it("stores no queued event of a replay's new run while its work item cannot be stored", async () => {
    // Else a replay given up on would leave the job reading queued, with nothing queued.
    await start({ giveUpAfterDeliveries: 2 });
    const jobId = uniqueName("replay-no-work");
    const seq = await publishLetter(jobId);
    await withStreamSealed("WORK", async () => {
      await command("replay", jobId, seq);
      await commandsSettled();
      const queued = await storedMessages(
        suite.jsm,
        "EVENTS",
        (s) => s === `events.${jobId}.queued`,
      );
      expect(queued).toEqual([]);
      expect(await logOf(jobId)).toEqual([]);
    });
  });

  it("carries out only one of a replay and a discard of the same letter sent together", async () => {
    await start();
    for (let round = 0; round < 5; round++) {
      const jobId = uniqueName("race");
      const seq = await publishLetter(jobId);
      await Promise.all([command("replay", jobId, seq), command("discard", jobId, seq)]);
      await commandsSettled();
      const log = await logOf(jobId);
      expect(log, `round ${round}`).toHaveLength(1);
    }
  });

  it("refuses a letter too deeply nested to read instead of retrying it", async () => {
    await start();
    const jobId = uniqueName("deep");
    const deep = `{"type":"echo","jobId":"${jobId}","run":1,"workItem":{"payload":${"[".repeat(3000)}${"]".repeat(3000)}}}`;
    const seq = await publishLetter(jobId, deep);
    const before = await deliveries();
    await command("discard", jobId, seq);
    await commandsSettled();
    expect((await deliveries()) - before).toBe(1);
  });

  describe("a cancel's trace", () => {
    const jobTraceId = "4bf92f3577b34da6a3ce929d0e0e4736";
    const requestTraceId = "0af7651916cd43dd8448eb211c80319c";
    const traceparent = (traceId: string, spanId: string, flags = "01") => {
      const h = headers();
      h.set("traceparent", `00-${traceId}-${spanId}-${flags}`);
      return h;
    };
    /** The job's `queued` event as the dispatcher stores it, in the trace `h` carries. */
    const queued = async (jobId: string, run: number, h = headers()) => {
      const event = {
        kind: "queued",
        jobId,
        type: "echo",
        at: new Date().toISOString(),
        run,
        attempt: 0,
        payload: {},
        priority: 5,
        maxAttempts: 3,
        submittedAt: new Date().toISOString(),
        source: "rest",
      };
      await suite.js.publish(`events.${jobId}.queued`, JSON.stringify(event), { headers: h });
    };

    /**
     * A mailbox whose spans are kept, cancelling run 1 of `jobId` as the gateway asks, in the
     * request's own trace (sampled unless `requestFlags` says otherwise).
     */
    const cancelRecorded = async (jobId: string, requestFlags = "01") => {
      const exporter = new InMemorySpanExporter();
      const tracing = Tracing.create({
        serviceName: "command-mailbox-test",
        spanProcessors: [new SimpleSpanProcessor({ exporter })],
      });
      try {
        await start({}, tracing);
        await cancel(jobId, traceparent(requestTraceId, "b7ad6b7169203331", requestFlags));
        await commandsSettled();
        const event = await suite.jsm.direct.getMessage("EVENTS", {
          last_by_subj: `events.${jobId}.cancelled`,
        });
        const span = exporter
          .getFinishedSpans()
          .find((s) => s.name === `send events.${jobId}.cancelled`);
        return { eventTrace: event?.header.get("traceparent").split("-")[1], span };
      } finally {
        await tracing.shutdown();
      }
    };

    it("publishes the cancelled event in the job's own trace, linked to the request's", async () => {
      const jobId = uniqueName("traced");
      await queued(jobId, 1, traceparent(jobTraceId, "00f067aa0ba902b7"));

      const { eventTrace, span } = await cancelRecorded(jobId);

      expect(eventTrace).toBe(jobTraceId);
      expect(span?.spanContext().traceId).toBe(jobTraceId);
      expect(span?.links.map((link) => link.context.traceId)).toEqual([requestTraceId]);
    });

    it("keeps the cancelled event in the request's trace when the job's cannot be found", async () => {
      const { eventTrace, span } = await cancelRecorded(uniqueName("untraced"));

      expect(eventTrace).toBe(requestTraceId);
      expect(span?.spanContext().traceId).toBe(requestTraceId);
      expect(span?.links).toEqual([]);
    });

    it("keeps it in the request's trace when the job's queued event carries no trace", async () => {
      const jobId = uniqueName("no-parent");
      await queued(jobId, 1);

      const { eventTrace } = await cancelRecorded(jobId);

      expect(eventTrace).toBe(requestTraceId);
    });

    it("keeps it in the request's trace when the newest queued event is a later run's", async () => {
      const jobId = uniqueName("replayed");
      // Replayed since: the cancel of run 1 belongs to no span of run 2.
      await queued(jobId, 2, traceparent(jobTraceId, "00f067aa0ba902b7"));

      const { eventTrace } = await cancelRecorded(jobId);

      expect(eventTrace).toBe(requestTraceId);
    });

    it("keeps it in a sampled request's trace when the job's trace was not sampled, where it would be recorded nowhere", async () => {
      const jobId = uniqueName("sampled-out");
      await queued(jobId, 1, traceparent(jobTraceId, "00f067aa0ba902b7", "00"));

      const { eventTrace, span } = await cancelRecorded(jobId);

      expect(eventTrace).toBe(requestTraceId);
      expect(span?.spanContext().traceId).toBe(requestTraceId);
      // The job's trace is in no backend: a link to it would lead nowhere.
      expect(span?.links).toEqual([]);
    });

    it("joins a sampled job's trace when the request's was not sampled, without a link to it", async () => {
      const jobId = uniqueName("request-out");
      await queued(jobId, 1, traceparent(jobTraceId, "00f067aa0ba902b7"));

      const { eventTrace, span } = await cancelRecorded(jobId, "00");

      expect(eventTrace).toBe(jobTraceId);
      expect(span?.spanContext().traceId).toBe(jobTraceId);
      expect(span?.links).toEqual([]);
    });
  });
});
