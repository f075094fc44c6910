import { Subject } from "@conveyor/contracts";
import type { JobEvent, RejectedEvent } from "@conveyor/contracts";
import { applyEvent, toStoredJob } from "@conveyor/read-model";
import type { JobDocument } from "@conveyor/read-model";
import { startMongoServer, startNatsServer, uniqueName } from "@conveyor/testing";
import type { MongoServerHandle, NatsServerHandle } from "@conveyor/testing";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import type { NatsConnection } from "@nats-io/transport-node";
import { MongoClient } from "mongodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { jobHistory, publishEvents, rejection, shuffledWithDuplicates } from "./events.ts";
import {
  addProjectorConsumer,
  resetTopology,
  startProjector,
  storedJobs,
  storedRejections,
  waitUntilDrained,
} from "./projector-fixture.ts";

/** Thirty jobs in every shape (retries, dead, replayed, odd payload keys) and three rejections. */
function workload(): (JobEvent | RejectedEvent)[] {
  const histories = Array.from({ length: 30 }, (_, i) =>
    jobHistory(
      `job-${String(i).padStart(2, "0")}`,
      {
        type: i % 2 === 0 ? "report.build" : "email.send",
        failures: i % 4,
        reports: i % 3,
        end: i % 5 === 0 ? "dead" : "succeeded",
        runs: i % 7 === 0 ? 2 : 1,
        payload: i % 6 === 0 ? { "dotted.key": i } : { i },
        ...(i % 3 === 0 ? { batchId: "batch-a" } : {}),
      },
      Date.UTC(2025, 0, 1) + i * 60_000,
    ),
  );
  // Interleave the jobs as concurrent workers would, then scramble and repeat some events.
  const interleaved = histories
    .flatMap((h) => h.map((event, i) => ({ event, i })))
    .sort((a, b) => a.i - b.i);
  const rejections = [0, 1, 2].map((i) => rejection(`rej-${i}`, `2025-01-02T00:00:0${i}.000Z`));
  return [
    ...shuffledWithDuplicates(
      interleaved.map((x) => x.event),
      42,
    ),
    ...rejections,
  ];
}

describe("rebuilding the read model from the events stream", () => {
  let nats: NatsServerHandle;
  let mongo: MongoServerHandle;
  let nc: NatsConnection;
  let client: MongoClient;

  beforeAll(async () => {
    [nats, mongo] = await Promise.all([startNatsServer(), startMongoServer()]);
    nc = await connect({ servers: nats.url });
    client = await MongoClient.connect(mongo.url);
  });

  afterAll(async () => {
    await client.close();
    await nc.close();
    await Promise.all([nats[Symbol.asyncDispose](), mongo[Symbol.asyncDispose]()]);
  });

  it("replays the whole stream into an empty database and gets identical documents", async () => {
    const js = jetstream(nc);
    const jsm = await jetstreamManager(nc);
    await resetTopology(jsm);
    const events = workload();
    await publishEvents(js, events);
    await js.publish(Subject.event("job-00", "started"), "not an event");

    const live = client.db(uniqueName("live"));
    const first = await startProjector(js, live);
    await waitUntilDrained(jsm);
    await first.stop();

    const rebuilt = client.db(uniqueName("rebuilt"));
    expect(await storedJobs(rebuilt)).toEqual([]);
    await addProjectorConsumer(jsm, "status-projector-rebuild");
    const second = await startProjector(js, rebuilt, {
      batchSize: 7,
      consumer: "status-projector-rebuild",
    });
    await waitUntilDrained(jsm, "status-projector-rebuild");
    await second.stop();

    const jobs = await storedJobs(live);
    expect(jobs).toHaveLength(30);
    expect(await storedJobs(rebuilt)).toStrictEqual(jobs);
    expect(await storedRejections(rebuilt)).toStrictEqual(await storedRejections(live));
    expect(await storedRejections(rebuilt)).toHaveLength(3);

    // Both equal what the reducer makes of each job's events, in publication order.
    const expected = new Map<string, JobDocument>();
    for (const event of events) {
      if (event.kind !== "rejected")
        expected.set(event.jobId, applyEvent(expected.get(event.jobId), event));
    }
    const byId = [...expected.values()].sort((a, b) => a._id.localeCompare(b._id)).map(toStoredJob);
    expect(jobs).toStrictEqual(byId);
  });
});
