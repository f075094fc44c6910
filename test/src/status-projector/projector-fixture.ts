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
import { waitFor } from "@conveyor/testing";
import { ensureTopology } from "@conveyor/topology";
import type { JetStreamClient, JetStreamManager } from "@nats-io/jetstream";
import { nanos } from "@nats-io/transport-node";
import type { Db } from "mongodb";

/** Starts a projector over `db` with its indexes, as main.ts does. */
export async function startProjector(
  js: JetStreamClient,
  db: Db,
  options: ProjectorOptions = {},
  logger: Logger = createLogger("status-projector-test", "silent"),
): Promise<Projector> {
  await ensureIndexes(db);
  return createProjector({
    js,
    db,
    logger,
    tracing: Tracing.create({ serviceName: "status-projector-test" }),
    options,
  });
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

/** Waits until the consumer has delivered every message and every delivery is acknowledged. */
export async function waitUntilDrained(
  jsm: JetStreamManager,
  consumer: string = ConsumerName.Projector,
  stream: string = StreamName.Events,
): Promise<void> {
  await waitFor(
    async () => {
      const info = await jsm.consumers.info(stream, consumer);
      return info.num_pending === 0 && info.num_ack_pending === 0;
    },
    { timeoutMs: 20_000, message: `consumer ${consumer} drained` },
  );
}

/** Every job document as stored (escaped keys), by id. */
export async function storedJobs(db: Db): Promise<JobDocument[]> {
  return jobsCollection(db).find().sort({ _id: 1 }).toArray();
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
