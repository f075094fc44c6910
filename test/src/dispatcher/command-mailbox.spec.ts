import type { DeadLetter, DeadLetterLogEntry, WorkItem } from "@conveyor/contracts";
import { createCommandMailbox } from "@conveyor/dispatcher";
import type { CommandMailbox, CommandMailboxOptions } from "@conveyor/dispatcher";
import { createLogger } from "@conveyor/service-kit";
import { Tracing } from "@conveyor/telemetry";
import { startNatsServer, uniqueName, waitFor } from "@conveyor/testing";
import type { NatsServerHandle } from "@conveyor/testing";
import { ensureTopology } from "@conveyor/topology";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import type { JetStreamClient, JetStreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import type { NatsConnection } from "@nats-io/transport-node";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";

import { storedMessages } from "./stream-reader.ts";

describe("dispatcher command mailbox", () => {
  let server: NatsServerHandle;
  let nc: NatsConnection;
  let js: JetStreamClient;
  let jsm: JetStreamManager;
  let tracing: Tracing;
  let running: CommandMailbox | undefined;

  beforeAll(async () => {
    server = await startNatsServer();
    nc = await connect({ servers: server.url });
    js = jetstream(nc);
    jsm = await jetstreamManager(nc);
    await ensureTopology(jsm);
    tracing = Tracing.create({ serviceName: "command-mailbox-test" });
  });

  afterEach(async () => {
    await running?.stop();
    running = undefined;
  });

  afterAll(async () => {
    await nc.close();
    await tracing.shutdown();
    await server[Symbol.asyncDispose]();
  });

  const start = async (options: CommandMailboxOptions = {}) => {
    running = await createCommandMailbox({
      js,
      jsm,
      tracing,
      logger: createLogger("command-mailbox-test", "silent"),
      options: { pullExpiresMs: 1000, ...options },
    });
    return running;
  };

  const commandsSettled = () =>
    waitFor(
      async () => {
        const info = await jsm.consumers.info("JOBS", "dispatcher-commands");
        return info.num_pending === 0 && info.num_ack_pending === 0;
      },
      { message: "commands never all settled", timeoutMs: 15_000 },
    );

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
    const ack = await js.publish("dlq.echo", body ?? JSON.stringify(letter));
    return ack.seq;
  };

  const command = (verb: string, jobId: string, seq: number) =>
    js.publish(
      `jobs.cmd.${verb}.${jobId}`,
      JSON.stringify({ jobId, run: 1, seq, requestedAt: new Date().toISOString() }),
    );

  const logOf = async (jobId: string) =>
    (await storedMessages(jsm, "DLQ", (s) => s === `dlq-log.${jobId}`)).map((m) =>
      m.json<DeadLetterLogEntry>(),
    );

  it("gives up on a command that keeps failing, so it leaves the ack-pending set", async () => {
    await start({ giveUpAfterDeliveries: 2 });
    await jsm.streams.delete("DLQ");
    try {
      await command("discard", uniqueName("job"), 1);
      await commandsSettled();
    } finally {
      await ensureTopology(jsm);
    }
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
    await command("discard", jobId, seq);
    await commandsSettled();
    const info = await jsm.consumers.info("JOBS", "dispatcher-commands");
    expect(info.num_redelivered).toBe(0);
  });
});
