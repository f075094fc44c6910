import { ConsumerName, StreamName } from "@conveyor/contracts";
import {
  deadLettersCollection,
  ensureIndexes,
  findDeadLetter,
  fromStoredJob,
  jobsCollection,
  rejectionsCollection,
} from "@conveyor/read-model";
import type { DeadLetterDocument, JobDocument, RejectionDocument } from "@conveyor/read-model";
import { createLogger } from "@conveyor/service-kit";
import type { Logger } from "@conveyor/service-kit";
import { createProjector } from "@conveyor/status-projector";
import type { Projector, ProjectorOptions } from "@conveyor/status-projector";
import { Tracing } from "@conveyor/telemetry";
import { uniqueName, waitFor } from "@conveyor/testing";
import { ensureTopology } from "@conveyor/topology";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import type { JetStreamClient, JetStreamManager } from "@nats-io/jetstream";
import { connect, nanos } from "@nats-io/transport-node";
import type { NatsConnection } from "@nats-io/transport-node";
import { MongoClient } from "mongodb";
import type { Db } from "mongodb";
import { afterAll, afterEach, beforeAll, beforeEach } from "vitest";

import { consumerSettled } from "../support/nats-suite.ts";
import { useServerPair } from "../support/server-pair.ts";

/**
 * Connections to the NATS and MongoDB servers that the tests of a describe block share. The
 * block's hooks assign them, so tests and hooks read them when they run, not when they are declared.
 */
export class SharedServers {
  nc!: NatsConnection;
  js!: JetStreamClient;
  jsm!: JetStreamManager;
  client!: MongoClient;
}

/** {@link SharedServers} with what each projector test gets of its own. */
export class ProjectorServers extends SharedServers {
  /** A database no other test uses, picked before each test. */
  db!: Db;
  /** The projector the current test started, if any: stopped after the test. */
  projector: Projector | undefined;
}

/** Registers hooks that start both servers before the block's tests, connect `target`, and stop them after. */
function connectBlock<T extends SharedServers>(target: T): T {
  const servers = useServerPair();

  beforeAll(async () => {
    target.nc = await connect({ servers: servers.nats.url });
    target.js = jetstream(target.nc);
    target.jsm = await jetstreamManager(target.nc);
    target.client = await MongoClient.connect(servers.mongo.url);
  });

  // Runs before the servers stop: vitest runs a block's afterAll hooks in reverse.
  afterAll(async () => {
    await target.client.close();
    await target.nc.close();
  });

  return target;
}

/** Call inside a `describe`: NATS and MongoDB servers for its tests, connected once for all of them. */
export function useServers(): SharedServers {
  return connectBlock(new SharedServers());
}

/**
 * Call inside a `describe`: like {@link useServers}, and before each test a fresh topology (so it
 * reads only its own events) and a database named after `dbPrefix`; after it, the stopped
 * {@link ProjectorServers.projector}.
 */
export function useProjectorServers(dbPrefix: string): ProjectorServers {
  const fx = connectBlock(new ProjectorServers());

  beforeEach(async () => {
    await resetTopology(fx.jsm);
    fx.db = fx.client.db(uniqueName(dbPrefix));
  });

  afterEach(async () => {
    await fx.projector?.stop();
    fx.projector = undefined;
  });

  return fx;
}

/**
 * What the projector ended with (`closed()`), or "still running" when it has not ended within
 * `timeoutMs`, so a projector that idles instead of failing fails the test's expectation.
 */
export function closedWithin(
  projector: Projector,
  timeoutMs: number,
): Promise<Awaited<ReturnType<Projector["closed"]>> | "still running"> {
  return Promise.race([
    projector.closed(),
    new Promise<"still running">((resolve) => setTimeout(resolve, timeoutMs, "still running")),
  ]);
}

/** Starts a projector over `db` with its indexes, as main.ts does. */
export async function startProjector(
  js: JetStreamClient,
  db: Db,
  options: ProjectorOptions = {},
  logger: Logger = createLogger("status-projector-test", "silent"),
  tracing: Tracing = Tracing.create({ serviceName: "status-projector-test" }),
): Promise<Projector> {
  await ensureIndexes(db);
  return createProjector({ js, db, logger, tracing, options });
}

/** Deletes every stream and provisions the topology again, so each test reads only its own events. */
export async function resetTopology(jsm: JetStreamManager): Promise<void> {
  for await (const name of jsm.streams.names()) await jsm.streams.delete(name);
  await ensureTopology(jsm);
}

/**
 * Adds a durable consumer configured like the topology's `status-projector` consumer (which it
 * copies) under another name: a projector reading it replays the events stream from the start.
 */
export async function addProjectorConsumer(
  jsm: JetStreamManager,
  name: string,
  options: { ackWaitMs?: number } = {},
): Promise<void> {
  const { config } = await jsm.consumers.info(StreamName.Events, ConsumerName.Projector);
  await jsm.consumers.add(StreamName.Events, {
    ...config,
    durable_name: name,
    name,
    ...(options.ackWaitMs === undefined ? {} : { ack_wait: nanos(options.ackWaitMs) }),
  });
}

/**
 * Adds a durable consumer configured like the topology's `status-projector-dlq` consumer under
 * another name: a projector reading it replays the DLQ stream from the start.
 */
export async function addDeadLetterConsumer(jsm: JetStreamManager, name: string): Promise<void> {
  const { config } = await jsm.consumers.info(StreamName.Dlq, ConsumerName.ProjectorDeadLetters);
  await jsm.consumers.add(StreamName.Dlq, { ...config, durable_name: name, name });
}

/**
 * Waits until the consumer has delivered every message the stream holds now and every delivery is
 * acknowledged. The projector's consumers read their whole stream, so the stream's last sequence
 * is one they must have delivered (a consumer's pending count lags a PubAck by a moment).
 */
export async function waitUntilDrained(
  jsm: JetStreamManager,
  consumer: string = ConsumerName.Projector,
  stream: string = StreamName.Events,
): Promise<void> {
  const through = (await jsm.streams.info(stream)).state.last_seq;
  await consumerSettled(jsm, stream, consumer, {
    through,
    timeoutMs: 20_000,
    message: `consumer ${consumer} drained`,
  });
}

/** Every job document as stored (escaped keys), by id. */
export async function storedJobs(db: Db): Promise<JobDocument[]> {
  return jobsCollection(db).find().sort({ _id: 1 }).toArray();
}

/**
 * A job or dead-letter document without its revision: what its events or `DLQ` messages say. The
 * revision counts the projector's writes, which depend on how messages fell into batches.
 */
export function withoutRevision<T extends JobDocument | DeadLetterDocument>(doc: T): T {
  const copy = { ...doc };
  delete copy.revision;
  return copy;
}

export async function storedRejections(db: Db): Promise<RejectionDocument[]> {
  return rejectionsCollection(db).find().sort({ _id: 1 }).toArray();
}

/** Every dead-letter document as stored (escaped keys), by id. */
export async function storedDeadLetters(db: Db): Promise<DeadLetterDocument[]> {
  return deadLettersCollection(db).find().sort({ _id: 1 }).toArray();
}

/** Waits for a job's dead-letter document to satisfy `accept`, and returns it. */
export async function waitForDeadLetter(
  db: Db,
  id: string,
  accept: (doc: DeadLetterDocument) => boolean = () => true,
): Promise<DeadLetterDocument> {
  return waitFor(
    async () => {
      const doc = await findDeadLetter(db, id);
      return doc !== null && accept(doc) ? doc : undefined;
    },
    { timeoutMs: 20_000, message: `dead letter of ${id} projected` },
  );
}

/** Waits for a job's document to satisfy `accept`, and returns it. */
export async function waitForJob(
  db: Db,
  id: string,
  accept: (doc: JobDocument) => boolean = () => true,
): Promise<JobDocument> {
  return waitFor(
    async () => {
      const doc = await jobsCollection(db).findOne({ _id: id });
      const job = doc === null ? null : fromStoredJob(doc);
      return job !== null && accept(job) ? job : undefined;
    },
    { timeoutMs: 20_000, message: `job ${id} projected` },
  );
}
