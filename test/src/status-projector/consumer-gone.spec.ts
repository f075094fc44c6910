import { ConsumerName, StreamName } from "@conveyor/contracts";
import { ConsumerGoneError } from "@conveyor/status-projector";
import { startMongoServer, startNatsServer, uniqueName } from "@conveyor/testing";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { MongoClient } from "mongodb";
import { describe, expect, it } from "vitest";

import { jobHistory, publishEvents } from "./events.ts";
import { closedWithin, resetTopology, startProjector, waitForJob } from "./projector-fixture.ts";

describe("status projector whose consumer is deleted", () => {
  it.each([
    { stream: StreamName.Events, consumer: ConsumerName.Projector },
    { stream: StreamName.Dlq, consumer: ConsumerName.ProjectorDeadLetters },
  ])("stops and reports the missing $consumer instead of idling", async ({ stream, consumer }) => {
    await using nats = await startNatsServer();
    await using mongo = await startMongoServer();
    const nc = await connect({ servers: nats.url });
    const client = await MongoClient.connect(mongo.url);
    try {
      const js = jetstream(nc);
      const jsm = await jetstreamManager(nc);
      await resetTopology(jsm);
      const db = client.db(uniqueName("gone"));
      const projector = await startProjector(js, db);
      await publishEvents(js, jobHistory("job-before"));
      await waitForJob(db, "job-before", (d) => d.status === "succeeded");

      await jsm.consumers.delete(stream, consumer);
      const failure = await closedWithin(projector, 15_000);
      expect(failure).toBeInstanceOf(ConsumerGoneError);
      expect(failure).toMatchObject({ stream, consumer });
      await projector.stop();
    } finally {
      await client.close();
      await nc.close();
    }
  });
});
