import { StreamName } from "@conveyor/contracts";
import { findDeadLetter, findJob } from "@conveyor/read-model";
import { createLogger } from "@conveyor/service-kit";
import { ConsumerGoneError } from "@conveyor/status-projector";
import type { Projector, ProjectorOptions } from "@conveyor/status-projector";
import { startMongoServer, startNatsServer, uniqueName, waitFor } from "@conveyor/testing";
import type { MongoServerHandle, NatsServerHandle } from "@conveyor/testing";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import type { JetStreamClient, JetStreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import type { NatsConnection } from "@nats-io/transport-node";
import { MongoClient } from "mongodb";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";

import { deadLetter, logEntry, publishLetter, settleLetter } from "./dead-letters.ts";
import { jobHistory, publishEvents } from "./events.ts";
import {
  addProjectorConsumer,
  closedWithin,
  resetTopology,
  startProjector,
  waitForDeadLetter,
  waitForJob,
  waitUntilDrained,
} from "./projector-fixture.ts";
import { startTcpGate } from "./tcp-gate.ts";
import type { TcpGate } from "./tcp-gate.ts";

/** A consumer with a short ack wait, so that abandoned deliveries come back quickly. */
const consumer = "status-projector-outage";
const retryMessage = "storing a batch failed, retrying";

/** A logger that counts the projector's failed attempts to store, without printing anything. */
function countingLogger() {
  const logger = createLogger("status-projector-test", "warn");
  const warn = vi.spyOn(logger, "warn").mockImplementation(() => undefined);
  const failures = () => warn.mock.calls.filter(([, msg]) => msg === retryMessage).length;
  return { logger, failures };
}

describe("status projector while MongoDB is unavailable", () => {
  let nats: NatsServerHandle;
  let mongo: MongoServerHandle;
  let nc: NatsConnection;
  let js: JetStreamClient;
  let jsm: JetStreamManager;
  let direct: MongoClient;
  let gate: TcpGate;
  const clients: MongoClient[] = [];
  const projectors: Projector[] = [];
  let dbName: string;

  beforeAll(async () => {
    [nats, mongo] = await Promise.all([startNatsServer(), startMongoServer()]);
    nc = await connect({ servers: nats.url });
    js = jetstream(nc);
    jsm = await jetstreamManager(nc);
    direct = await MongoClient.connect(mongo.url);
    const target = new URL(mongo.url);
    gate = await startTcpGate(target.hostname, Number(target.port));
  });

  afterAll(async () => {
    await direct.close();
    await gate[Symbol.asyncDispose]();
    await nc.close();
    await Promise.all([nats[Symbol.asyncDispose](), mongo[Symbol.asyncDispose]()]);
  });

  beforeEach(async () => {
    await resetTopology(jsm);
    await addProjectorConsumer(jsm, consumer, { ackWaitMs: 2000 });
    dbName = uniqueName("outage");
    gate.unblock();
  });

  afterEach(async () => {
    gate.unblock();
    for (const projector of projectors.splice(0)) await projector.stop();
    for (const client of clients.splice(0)) await client.close();
  });

  /** A projector whose MongoDB connections pass through the gate, as a separate process would. */
  async function start(
    logger = createLogger("status-projector-test", "silent"),
    options: ProjectorOptions = {},
  ) {
    const client = await MongoClient.connect(`mongodb://127.0.0.1:${gate.port}/`, {
      serverSelectionTimeoutMS: 300,
      connectTimeoutMS: 300,
    });
    clients.push(client);
    const projector = await startProjector(
      js,
      client.db(dbName),
      { consumer, retryMaxDelayMs: 200, storeTimeoutMs: 1000, ...options },
      logger,
    );
    projectors.push(projector);
    return projector;
  }

  const projected = (id: string) => findJob(direct.db(dbName), id);

  /** A projector that has failed at least once to store the events of `jobId`: MongoDB is blocked. */
  async function storingWhileMongoIsDown(jobId: string): Promise<Projector> {
    const { logger, failures } = countingLogger();
    const projector = await start(logger);
    gate.block();
    await publishEvents(js, jobHistory(jobId));
    await waitFor(() => Promise.resolve(failures() >= 1), { message: "a failed attempt to store" });
    return projector;
  }

  it("keeps events unacknowledged until MongoDB is back, then projects them", async () => {
    const { logger, failures } = countingLogger();
    await start(logger);
    await publishEvents(js, jobHistory("job-before"));
    await waitForJob(direct.db(dbName), "job-before", (d) => d.status === "succeeded");

    gate.block();
    const events = jobHistory("job-during");
    await publishEvents(js, events);
    await waitFor(() => Promise.resolve(failures() >= 3), {
      message: "three failed attempts to store",
    });
    const info = await jsm.consumers.info(StreamName.Events, consumer);
    expect(info.num_pending).toBe(0);
    expect(info.num_ack_pending).toBe(events.length);
    expect(await projected("job-during")).toBeNull();

    gate.unblock();
    await waitUntilDrained(jsm, consumer);
    expect(await projected("job-during")).toMatchObject({ status: "succeeded" });
  });

  it("keeps a newer document when an abandoned attempt's write reaches MongoDB after it", async () => {
    const { logger, failures } = countingLogger();
    // Fenced as on MongoDB (FerretDB's own default is unfenced, see docs/read-model.md).
    await start(logger, { fenceRevisions: true });
    const [queued, started, succeeded] = jobHistory("job-late-write", { reports: 0 });
    await publishEvents(js, [queued!]);
    await waitForJob(direct.db(dbName), "job-late-write", (d) => d.status === "queued");

    // The write of `started` reaches the server but is not run before the attempt's deadline, as
    // when MongoDB stalls; the retry stores it, and the job's next batch stores `succeeded`.
    const stalled = gate.holdNext("job-late-write");
    await publishEvents(js, [started!]);
    await stalled.caught;
    await waitFor(() => Promise.resolve(failures() >= 1), { message: "a timed-out attempt" });
    await publishEvents(js, [succeeded!]);
    await waitForJob(direct.db(dbName), "job-late-write", (d) => d.status === "succeeded");

    // Now the stalled write runs.
    await stalled.release();
    expect(await projected("job-late-write")).toMatchObject({ status: "succeeded" });
  });

  it("keeps a settled dead letter when an abandoned attempt's write of it open reaches MongoDB after", async () => {
    const { logger, failures } = countingLogger();
    await start(logger, { fenceRevisions: true });
    const letter = deadLetter("job-late-letter");

    // The letter's first write (its error message is in no lookup) is held past the attempt's
    // deadline; the retry stores it, and the replay's log entry then settles it.
    const stalled = gate.holdNext("of job-late-letter failed");
    const seq = await publishLetter(js, letter);
    await stalled.caught;
    await waitFor(() => Promise.resolve(failures() >= 1), { message: "a timed-out attempt" });
    await waitForDeadLetter(direct.db(dbName), "job-late-letter", (d) => d.state === "dead");
    await settleLetter(js, jsm, logEntry(letter, "replayed", seq));
    await waitForDeadLetter(direct.db(dbName), "job-late-letter", (d) => d.state === "replayed");

    // Now the stalled write runs.
    await stalled.release();
    expect(await findDeadLetter(direct.db(dbName), "job-late-letter")).toMatchObject({
      state: "replayed",
    });
  });

  it("reports its consumer deleted while a batch waits for MongoDB, instead of crashing", async () => {
    const projector = await storingWhileMongoIsDown("job-orphaned");

    // The subscription fails while the batch is still being stored.
    await jsm.consumers.delete(StreamName.Events, consumer);
    await new Promise((resolve) => setTimeout(resolve, 2000));
    gate.unblock();
    const failure = await closedWithin(projector, 15_000);
    expect(failure).toBeInstanceOf(ConsumerGoneError);
    expect(failure).toMatchObject({ stream: StreamName.Events, consumer });
  });

  it("stops while MongoDB is down and leaves the events to the next projector", async () => {
    const projector = await storingWhileMongoIsDown("job-handover");
    await projector.stop();
    expect(await projected("job-handover")).toBeNull();

    gate.unblock();
    await start();
    await waitUntilDrained(jsm, consumer);
    expect(await projected("job-handover")).toMatchObject({ status: "succeeded" });
  });
});
