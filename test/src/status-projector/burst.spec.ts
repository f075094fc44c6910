import { countJobsByStatusAndType } from "@conveyor/read-model";
import type { Projector } from "@conveyor/status-projector";
import { startMongoServer, startNatsServer, uniqueName, waitFor } from "@conveyor/testing";
import type { MongoServerHandle, NatsServerHandle } from "@conveyor/testing";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import type { NatsConnection } from "@nats-io/transport-node";
import { MongoClient } from "mongodb";
import type { Db } from "mongodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { jobHistory, publishEvents } from "./events.ts";
import { resetTopology, startProjector } from "./projector-fixture.ts";

/**
 * FerretDB 1.24 (SQLite) never answers an unordered bulk write of 100 or more replacements of
 * existing documents, and then hangs every later command: a burst of jobs must not write them in
 * one command.
 */
const burst = 250;

async function countOf(db: Db, status: string): Promise<number> {
  const counts = await countJobsByStatusAndType(db);
  return counts.filter((c) => c.status === status).reduce((sum, c) => sum + c.count, 0);
}

describe("status projector under a burst of jobs", () => {
  let nats: NatsServerHandle;
  let mongo: MongoServerHandle;
  let nc: NatsConnection;
  let client: MongoClient;
  let projector: Projector | undefined;

  beforeAll(async () => {
    [nats, mongo] = await Promise.all([startNatsServer(), startMongoServer()]);
    nc = await connect({ servers: nats.url });
    client = await MongoClient.connect(mongo.url);
  });

  afterAll(async () => {
    await projector?.stop();
    await client.close();
    await nc.close();
    await Promise.all([nats[Symbol.asyncDispose](), mongo[Symbol.asyncDispose]()]);
  });

  it("updates hundreds of existing job documents in one batch", { timeout: 90_000 }, async () => {
    const js = jetstream(nc);
    await resetTopology(await jetstreamManager(nc));
    const db = client.db(uniqueName("burst"));
    const histories = Array.from({ length: burst }, (_, i) => jobHistory(`burst-${i}`));
    const queued = histories.map((h) => h[0]!);
    const rest = histories.flatMap((h) => h.slice(1));

    // Create the documents, then let one large batch update every one of them.
    projector = await startProjector(js, db, { batchSize: 1000 });
    await publishEvents(js, queued);
    await waitFor(async () => (await countOf(db, "queued")) === burst || undefined, {
      timeoutMs: 30_000,
      message: "queued documents",
    });
    await projector.stop();
    await publishEvents(js, rest);
    projector = await startProjector(js, db, { batchSize: 1000 });

    await waitFor(async () => (await countOf(db, "succeeded")) === burst || undefined, {
      timeoutMs: 60_000,
      message: `all ${burst} jobs succeeded`,
    });
    expect(await countOf(db, "queued")).toBe(0);
  });
});
