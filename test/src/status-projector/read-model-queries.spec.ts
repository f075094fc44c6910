import type { JobEvent } from "@conveyor/contracts";
import {
  InvalidCursorError,
  InvalidQueryError,
  applyEvent,
  countJobsByStatusAndType,
  ensureIndexes,
  findJob,
  findRejection,
  jobsCollection,
  listJobs,
  listRejections,
  rejectionFromEvent,
  rejectionsCollection,
  toStoredJob,
} from "@conveyor/read-model";
import type { JobDocument, Page } from "@conveyor/read-model";
import { startMongoServer, uniqueName } from "@conveyor/testing";
import type { MongoServerHandle } from "@conveyor/testing";
import { MongoClient } from "mongodb";
import type { Db } from "mongodb";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";

import { jobHistory, rejection } from "./events.ts";

/** The document of a job after the first `count` events of its history. */
function jobAfter(events: readonly JobEvent[], count = events.length): JobDocument {
  return events.slice(0, count).reduce<JobDocument | undefined>(applyEvent, undefined)!;
}

async function insertJobs(db: Db, docs: readonly JobDocument[]): Promise<void> {
  await jobsCollection(db).insertMany(docs.map(toStoredJob));
}

async function allPages<T>(next: (cursor?: string) => Promise<Page<T>>): Promise<T[][]> {
  const pages: T[][] = [];
  let cursor: string | undefined;
  do {
    const page = await next(cursor);
    pages.push(page.items);
    cursor = page.nextCursor ?? undefined;
  } while (cursor !== undefined);
  return pages;
}

describe("read-model queries", () => {
  let mongo: MongoServerHandle;
  let client: MongoClient;
  let db: Db;

  beforeAll(async () => {
    mongo = await startMongoServer();
    client = await MongoClient.connect(mongo.url);
  });

  afterAll(async () => {
    await client.close();
    await mongo[Symbol.asyncDispose]();
  });

  beforeEach(async () => {
    db = client.db(uniqueName("queries"));
    await ensureIndexes(db);
  });

  it("creates the list indexes, and creating them again changes nothing", async () => {
    await ensureIndexes(db);
    const names = async (collection: string) =>
      (await db.collection(collection).indexes()).map((i) => i.name).sort();
    expect(await names("jobs")).toEqual([
      "_id_",
      "batch",
      "status_id",
      "type_id",
      "type_status_id",
    ]);
    expect(await names("rejections")).toEqual(["_id_", "at_id"]);
  });

  it("pages through jobs newest first, with filters, and without repeats when jobs are added", async () => {
    const ids = ["j1", "j2", "j3", "j4", "j5", "j6", "j7"];
    await insertJobs(
      db,
      ids.map((id, i) =>
        jobAfter(jobHistory(id, { type: i % 2 === 0 ? "a.x" : "b.y" }), i < 3 ? 1 : undefined),
      ),
    );

    const pages = await allPages(async (cursor) => {
      const page = await listJobs(db, { limit: 3, cursor });
      if (cursor === undefined) await insertJobs(db, [jobAfter(jobHistory("j9"))]);
      return page;
    });
    expect(pages.map((p) => p.map((d) => d._id))).toEqual([
      ["j7", "j6", "j5"],
      ["j4", "j3", "j2"],
      ["j1"],
    ]);

    const queued = await listJobs(db, { status: "queued", limit: 10 });
    expect(queued.items.map((d) => d._id)).toEqual(["j3", "j2", "j1"]);
    expect(queued.nextCursor).toBeNull();
    const typed = await listJobs(db, { type: "a.x", status: "succeeded", limit: 10 });
    expect(typed.items.map((d) => d._id)).toEqual(["j7", "j5"]);
  });

  it("lists the jobs of a batch and counts them by status and type", async () => {
    await insertJobs(db, [
      jobAfter(jobHistory("b1", { batchId: "batch-1" })),
      jobAfter(jobHistory("b2", { batchId: "batch-1" }), 2),
      jobAfter(jobHistory("b3", { batchId: "batch-1", type: "email.send" }), 1),
      jobAfter(jobHistory("o1", { end: "dead" })),
    ]);

    const batch = await listJobs(db, { batchId: "batch-1", limit: 500 });
    expect(batch.items.map((d) => d._id)).toEqual(["b3", "b2", "b1"]);
    expect(await countJobsByStatusAndType(db)).toEqual([
      { status: "queued", type: "email.send", count: 1 },
      { status: "dead", type: "report.build", count: 1 },
      { status: "running", type: "report.build", count: 1 },
      { status: "succeeded", type: "report.build", count: 1 },
    ]);
    expect(
      await countJobsByStatusAndType(db, { batchId: "batch-1", type: "report.build" }),
    ).toEqual([
      { status: "running", type: "report.build", count: 1 },
      { status: "succeeded", type: "report.build", count: 1 },
    ]);
  });

  it("refuses bad list options with a typed error naming the option", async () => {
    const fieldOf = async (promise: Promise<unknown>) => {
      const err = await promise.then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(InvalidQueryError);
      return (err as InvalidQueryError).field;
    };
    await expect(listJobs(db, { limit: 10, cursor: "garbage!" })).rejects.toBeInstanceOf(
      InvalidCursorError,
    );
    expect(await fieldOf(listJobs(db, { limit: 10, cursor: "bm9wZQ" }))).toBe("cursor");
    expect(await fieldOf(listJobs(db, { limit: 0 }))).toBe("limit");
    expect(await fieldOf(listJobs(db, { limit: 501 }))).toBe("limit");
    expect(await fieldOf(listRejections(db, { limit: 2.5 }))).toBe("limit");
    expect(await fieldOf(listJobs(db, { limit: 1, status: "lost" as never }))).toBe("status");
  });

  it("returns payloads and results exactly as submitted, whatever their keys", async () => {
    const payload = { "a.b": { $in: [1] }, "100%": "x" };
    await insertJobs(db, [jobAfter(jobHistory("weird", { payload }))]);
    expect((await findJob(db, "weird"))?.payload).toStrictEqual(payload);
    expect((await listJobs(db, { limit: 1 })).items[0]?.payload).toStrictEqual(payload);
    expect(await findJob(db, "missing")).toBeNull();
  });

  it("pages through rejections newest first, including ones rejected in the same millisecond", async () => {
    const at = ["2025-01-01T00:00:01.000Z", "2025-01-01T00:00:03.000Z", "2025-01-01T00:00:03.000Z"];
    await rejectionsCollection(db).insertMany(
      [...at, "2025-01-01T00:00:02.000Z", "2025-01-01T00:00:03.000Z"].map((time, i) =>
        rejectionFromEvent(rejection(`r${i}`, time)),
      ),
    );
    const pages = await allPages((cursor) => listRejections(db, { limit: 2, cursor }));
    expect(pages.map((p) => p.map((r) => r._id))).toEqual([["r4", "r2"], ["r1", "r3"], ["r0"]]);
    expect(await findRejection(db, "r3")).toMatchObject({ at: "2025-01-01T00:00:02.000Z" });
  });
});
