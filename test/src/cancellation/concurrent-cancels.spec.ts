import { randomUUID } from "node:crypto";

import {
  CancellationRecord,
  CommandVerb,
  ConsumerName,
  KvBucket,
  StreamName,
  Subject,
  commandMsgId,
} from "@conveyor/contracts";
import type { CancelCommandInput } from "@conveyor/contracts";
import { createCommandMailbox } from "@conveyor/dispatcher";
import type { CommandMailbox } from "@conveyor/dispatcher";
import { createLogger } from "@conveyor/service-kit";
import { Tracing } from "@conveyor/telemetry";
import { startNatsServer, uniqueName } from "@conveyor/testing";
import type { NatsServerHandle } from "@conveyor/testing";
import { ensureTopology } from "@conveyor/topology";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import type { JetStreamManager } from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";
import { connect } from "@nats-io/transport-node";
import type { NatsConnection } from "@nats-io/transport-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { consumerSettled } from "../support/nats-suite.ts";

describe("concurrent cancel commands", () => {
  let server: NatsServerHandle;
  let nc: NatsConnection;
  let jsm: JetStreamManager;
  let mailbox: CommandMailbox | undefined;
  const tracing = Tracing.create({ serviceName: "test" });

  beforeAll(async () => {
    server = await startNatsServer();
    nc = await connect({ servers: server.url });
    jsm = await jetstreamManager(nc);
    await ensureTopology(jsm);
  });

  afterAll(async () => {
    await mailbox?.stop();
    await nc.close();
    await server[Symbol.asyncDispose]();
  });

  it("keep the later run cancelled when a stale cancel of an earlier run runs alongside", async () => {
    const js = jetstream(nc);
    const jobIds = Array.from({ length: 24 }, (_, i) => `${uniqueName("cancel")}-${String(i)}`);
    const cancel = (jobId: string, run: number): CancelCommandInput => ({
      jobId,
      type: "sleep",
      run,
      reason: `cancel run ${String(run)}`,
      requestedAt: new Date().toISOString(),
    });
    // Queued before the mailbox starts, so each pair is fetched together and handled at once.
    let through = 0;
    for (const jobId of jobIds) {
      for (const run of [2, 1]) {
        const ack = await js.publish(
          Subject.command(CommandVerb.Cancel, jobId),
          JSON.stringify(cancel(jobId, run)),
          { msgID: commandMsgId(CommandVerb.Cancel, jobId, run, randomUUID()) },
        );
        through = Math.max(through, ack.seq);
      }
    }
    mailbox = await createCommandMailbox({
      js,
      jsm,
      tracing,
      logger: createLogger("test", "silent"),
    });
    await consumerSettled(jsm, StreamName.Jobs, ConsumerName.DispatcherCommands, {
      through,
      message: "commands were not all handled",
    });

    const kv = await new Kvm(nc).open(KvBucket.Cancellations);
    const recordedRuns: Record<string, number | undefined> = {};
    for (const jobId of jobIds) {
      const entry = await kv.get(jobId);
      recordedRuns[jobId] = entry ? CancellationRecord.parse(entry.json()).run : undefined;
    }
    expect(recordedRuns).toEqual(Object.fromEntries(jobIds.map((id) => [id, 2])));
  });
});
