import {
  countJobsByStatusAndType,
  jobsCollection,
  findDeadLetter,
  findJob,
  findRejection,
  listDeadLetters,
  listJobs,
  listRejections,
  listReplayableDeadLetters,
} from "@conveyor/read-model";
import type { ReadDeadline } from "@conveyor/read-model";
import { uniqueName } from "@conveyor/testing";
import { MongoClient } from "mongodb";
import type { Collection, CommandStartedEvent, Db } from "mongodb";
import { describe, expect, it } from "vitest";

import { useMongoSuite } from "../support/mongo-suite.ts";

describe("read-model queries given a deadline", () => {
  const mongo = useMongoSuite();

  it("send it to the server as maxTimeMS, so that a read answered 503 at it stops there", async () => {
    // Without it a read the gateway gave up on runs on: clients retrying a slow read pile up
    // queries on a read model that is already slow.
    const client = new MongoClient(mongo.server.url, { monitorCommands: true });
    const started: CommandStartedEvent[] = [];
    client.on("commandStarted", (event) => started.push(event));
    const deadline: ReadDeadline = { maxTimeMS: 1500 };
    const reads: ((db: Db) => Promise<unknown>)[] = [
      (db) => findJob(db, "no-such-job", deadline),
      (db) => listJobs(db, { limit: 5, ...deadline }),
      (db) => countJobsByStatusAndType(db, deadline),
      (db) => findDeadLetter(db, "no-such-job", deadline),
      (db) => listDeadLetters(db, { limit: 5, ...deadline }),
      (db) => listReplayableDeadLetters(db, { type: "echo", limit: 5, ...deadline }),
      (db) => findRejection(db, "no-such-rejection", deadline),
      (db) => listRejections(db, { limit: 5, ...deadline }),
    ];
    try {
      const db = client.db(uniqueName("deadline"));
      for (const read of reads) await read(db);
      const commands = started.filter((event) =>
        ["find", "aggregate", "count"].includes(event.commandName),
      );
      // listReplayableDeadLetters reads and counts.
      expect(commands.length).toBe(reads.length + 1);
      for (const { commandName, command } of commands) {
        expect(command["maxTimeMS"], commandName).toBe(1500);
      }
    } finally {
      await client.close();
    }
  });

  it("are stopped by the server when the deadline passes (MaxTimeMSExpired), not left running", async () => {
    const db = mongo.client.db(uniqueName("deadline"));
    const jobs = Array.from({ length: 50_000 }, (_, i) => ({
      _id: `job-${String(i).padStart(6, "0")}`,
      status: "succeeded",
      type: `type.${i % 50}`,
    }));
    const collection = jobsCollection(db) as unknown as Collection<{ _id: string }>;
    for (let i = 0; i < jobs.length; i += 5000)
      await collection.insertMany(jobs.slice(i, i + 5000));
    const failure = await countJobsByStatusAndType(db, { maxTimeMS: 5 }).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(failure).toMatchObject({ code: 50 });
    await db.dropDatabase();
  });
});
