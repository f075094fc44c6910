import type { JobEvent } from "@conveyor/contracts";
import { applyEvent, findJob, jobsCollection, toStoredJob } from "@conveyor/read-model";
import type { JobDocument, RetentionPolicy } from "@conveyor/read-model";
import { RetentionSweeper } from "@conveyor/status-projector";
import { uniqueName, waitFor } from "@conveyor/testing";
import { MongoClient } from "mongodb";
import type { Db } from "mongodb";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";

import { useMongoSuite } from "../support/mongo-suite.ts";
import { recordingLogger } from "../support/recording-logger.ts";

import { jobHistory } from "./events.ts";
import { startTcpGate } from "./tcp-gate.ts";
import type { TcpGate } from "./tcp-gate.ts";

const dayMs = 86_400_000;
const policy: RetentionPolicy = {
  finishedJobsMs: dayMs,
  deadJobsMs: dayMs,
  openDeadLettersMs: dayMs,
  rejectionsMs: dayMs,
};

/** A succeeded job that finished in 2025, long past the policy's day. */
function expiredJob(id: string): JobDocument {
  const events: JobEvent[] = jobHistory(id);
  return events.reduce<JobDocument | undefined>(applyEvent, undefined)!;
}

describe("the status projector's retention sweeper", () => {
  const mongo = useMongoSuite();
  let gate: TcpGate;
  const stops: (() => Promise<void>)[] = [];

  beforeAll(async () => {
    const target = new URL(mongo.server.url);
    gate = await startTcpGate(target.hostname, Number(target.port));
  });

  afterAll(() => gate[Symbol.asyncDispose]());

  afterEach(async () => {
    gate.unblock();
    for (const stop of stops.splice(0).reverse()) await stop();
  });

  /** A sweeper whose MongoDB connections pass through the gate, as the service's would. */
  async function startSweeper(
    db: Db,
    logger = recordingLogger().logger,
    caughtUp?: () => Promise<boolean>,
  ) {
    const client = await MongoClient.connect(`mongodb://127.0.0.1:${gate.port}/`, {
      serverSelectionTimeoutMS: 300,
      connectTimeoutMS: 300,
    });
    stops.push(() => client.close());
    const sweeper = new RetentionSweeper(client.db(db.databaseName), logger, {
      policy,
      intervalMs: 50,
      batchSize: 1000,
      recheck: true,
      // A failed sweep spends its time waiting for the server: try again as soon.
      maxBusyShare: 0.5,
      ...(caughtUp === undefined ? {} : { caughtUp }),
    });
    sweeper.start();
    stops.push(() => sweeper.stop());
    return sweeper;
  }

  it("deletes expired documents on its interval, says how many, and sweeps no more once stopped", async () => {
    const db = mongo.client.db(uniqueName("sweeper"));
    await jobsCollection(db).insertMany(
      [expiredJob("old-1"), expiredJob("old-2")].map(toStoredJob),
    );
    const { logger, infos } = recordingLogger();

    const sweeper = await startSweeper(db, logger);
    const deleted = await waitFor(
      () => Promise.resolve(infos("expired read-model documents deleted").at(0)),
      {
        timeoutMs: 10_000,
        message: "expired jobs deleted",
      },
    );
    expect(deleted).toMatchObject({ jobs: 2, rejections: 0, deadLetters: 0 });
    expect(await jobsCollection(db).countDocuments()).toBe(0);

    await sweeper.stop();
    await jobsCollection(db).insertOne(toStoredJob(expiredJob("old-3")));
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(await findJob(db, "old-3")).not.toBeNull();
  });

  it("sweeps nothing while the projector is behind on the events, as in a rebuild, and sweeps once it caught up", async () => {
    // A rebuild starts a week behind: a job it just wrote may be expired, and a late event of it
    // (a redelivery after success) must fold into its whole document, not into nothing.
    const db = mongo.client.db(uniqueName("sweeper"));
    await jobsCollection(db).insertOne(toStoredJob(expiredJob("old-1")));
    let behind = true;
    await startSweeper(db, recordingLogger().logger, () => Promise.resolve(!behind));
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(await findJob(db, "old-1")).not.toBeNull();

    behind = false;
    await waitFor(async () => (await findJob(db, "old-1")) === null, {
      timeoutMs: 10_000,
      message: "the expired job deleted once the projector caught up",
    });
  });

  it("logs a sweep that fails and deletes with a later one", async () => {
    const db = mongo.client.db(uniqueName("sweeper"));
    await jobsCollection(db).insertOne(toStoredJob(expiredJob("old-1")));
    const { logger, warnings } = recordingLogger();

    // Its first sweep is due 50 ms after it starts: MongoDB is unreachable by then.
    await startSweeper(db, logger);
    gate.block();
    const failed = "read-model retention sweep failed; the next sweep tries again";
    await waitFor(() => Promise.resolve(warnings(failed).length > 0), {
      timeoutMs: 10_000,
      message: "a failed sweep logged",
    });
    expect(await findJob(db, "old-1")).not.toBeNull();

    gate.unblock();
    await waitFor(async () => (await findJob(db, "old-1")) === null, {
      timeoutMs: 10_000,
      message: "the expired job deleted once MongoDB is back",
    });
  });
});
