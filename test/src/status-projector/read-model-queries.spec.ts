import type { JobEvent } from "@conveyor/contracts";
import {
  InvalidCursorError,
  InvalidQueryError,
  applyEvent,
  countJobsByStatusAndType,
  deadLettersCollection,
  ensureIndexes,
  findDeadLetter,
  findJob,
  findRejection,
  jobsCollection,
  listDeadLetters,
  listReplayableDeadLetters,
  listJobs,
  listRejections,
  rejectionFromEvent,
  rejectionsCollection,
  serverUsesListIndexes,
  toStoredDeadLetter,
  toStoredJob,
} from "@conveyor/read-model";
import type { JobDocument, Page } from "@conveyor/read-model";
import { uniqueName } from "@conveyor/testing";
import type { Db } from "mongodb";
import { beforeEach, describe, expect, it } from "vitest";

import { useMongoSuite } from "../support/mongo-suite.ts";

import { deadLetter, logEntry, reduceDeadLetters } from "./dead-letters.ts";
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
  const mongo = useMongoSuite();
  let db: Db;

  beforeEach(async () => {
    db = mongo.client.db(uniqueName("queries"));
    await ensureIndexes(db);
  });

  it("creates the list indexes where the server can use them, and creating them again changes nothing", async () => {
    // FerretDB 1.x on SQLite (the harness's server) answers buildInfo with its own version and
    // serves no query but an `_id` lookup from an index; MongoDB (MONGO_URL) uses them all.
    const buildInfo = await mongo.client.db("admin").command({ buildInfo: 1 });
    const usable = typeof buildInfo["ferretdbVersion"] !== "string";
    expect(await serverUsesListIndexes(db)).toBe(usable);
    expect(await ensureIndexes(db)).toEqual({ listIndexes: usable });
    const names = async (collection: string) =>
      (await db.collection(collection).indexes()).map((i) => i.name).sort();
    const listed = (list: string[]) => (usable ? ["_id_", ...list] : ["_id_"]);
    expect(await names("jobs")).toEqual(
      listed(["batchId_id", "status_finishedAt", "status_id", "type_id", "type_status_id"]),
    );
    expect(await names("rejections")).toEqual(listed(["at_id", "jobId_at_id"]));
    expect(await names("dead_letters")).toEqual(
      listed(["state_deadAt", "state_id", "state_settledAt", "state_type_id", "type_id"]),
    );
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

  it("ends a page of large jobs or letters at maxBytes, the rest on the next pages, never an empty page", async () => {
    // A page of 500 jobs with payloads near the submission limit would be over 100 MB, built and
    // sent in one piece while the gateway's event loop waits.
    const payload = { blob: "x".repeat(40_000) };
    await insertJobs(
      db,
      ["j1", "j2", "j3", "j4", "j5"].map((id) => jobAfter(jobHistory(id, { payload }))),
    );
    const pages = await allPages((cursor) =>
      listJobs(db, { limit: 10, cursor, maxBytes: 100_000 }),
    );
    expect(pages.map((p) => p.map((d) => d._id))).toEqual([["j5", "j4"], ["j3", "j2"], ["j1"]]);
    // One job larger than the budget is a page of its own.
    const single = await listJobs(db, { limit: 10, maxBytes: 1000 });
    expect(single.items.map((d) => d._id)).toEqual(["j5"]);
    expect(single.nextCursor).not.toBeNull();

    for (const id of ["d1", "d2", "d3"]) {
      const letter = deadLetter(id, { payload });
      await deadLettersCollection(db).insertOne(
        toStoredDeadLetter(reduceDeadLetters([{ letter, seq: 1 }])!),
      );
    }
    const letters = await allPages((cursor) =>
      listDeadLetters(db, { limit: 10, cursor, maxBytes: 100_000 }),
    );
    expect(letters.map((p) => p.map((d) => d._id))).toEqual([["d1", "d2"], ["d3"]]);
  });

  it("lists what a replay of a type's letters needs, past letters that cannot be replayed, oldest first", async () => {
    const payload = { blob: "x".repeat(40_000) };
    const store = (letter: ReturnType<typeof deadLetter>, seq: number) =>
      deadLettersCollection(db).insertOne(
        toStoredDeadLetter(reduceDeadLetters([{ letter, seq }])!),
      );
    // The oldest letters of the type cannot be replayed: no readable work item.
    for (const [i, id] of ["a1", "a2", "a3"].entries()) {
      const unreadable = deadLetter(id, { type: "t.x" });
      delete unreadable.workItem;
      await store(unreadable, 10 + i);
    }
    for (const [i, id] of ["b1", "b2", "b3"].entries()) {
      await store(deadLetter(id, { type: "t.x", payload, run: 2 }), 20 + i);
    }
    await store(deadLetter("c1", { type: "t.other" }), 30);

    const first = await listReplayableDeadLetters(db, { type: "t.x", limit: 2 });
    expect(first).toEqual({
      letters: [
        { jobId: "b1", run: 2, type: "t.x", seq: 20 },
        { jobId: "b2", run: 2, type: "t.x", seq: 21 },
      ],
      more: true,
      unreplayable: 3,
    });
    const all = await listReplayableDeadLetters(db, { type: "t.x", limit: 10 });
    expect(all.letters.map((l) => l.jobId)).toEqual(["b1", "b2", "b3"]);
    expect(all.more).toBe(false);
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
    expect(await fieldOf(listDeadLetters(db, { limit: 1, state: "lost" as never }))).toBe("state");
    expect(await fieldOf(listDeadLetters(db, { limit: 1, cursor: "bm9wZQ" }))).toBe("cursor");
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

  it("lists the rejections of one job id, newest first, paging within them", async () => {
    const of = (rejectionId: string, at: string, jobId?: string) => ({
      ...rejection(rejectionId, at),
      ...(jobId === undefined ? {} : { jobId }),
    });
    await rejectionsCollection(db).insertMany(
      [
        of("r0", "2025-01-01T00:00:01.000Z", "order-7"),
        of("r1", "2025-01-01T00:00:02.000Z", "order-8"),
        of("r2", "2025-01-01T00:00:03.000Z"),
        of("r3", "2025-01-01T00:00:04.000Z", "order-7"),
        of("r4", "2025-01-01T00:00:05.000Z", "order-7"),
      ].map(rejectionFromEvent),
    );
    const pages = await allPages((cursor) =>
      listRejections(db, { limit: 2, cursor, jobId: "order-7" }),
    );
    expect(pages.map((p) => p.map((r) => r._id))).toEqual([["r4", "r3"], ["r0"]]);
    expect((await listRejections(db, { limit: 5, jobId: "order-9" })).items).toEqual([]);
  });

  it("pages through open dead letters oldest job first, by type and state, without repeats when letters are added", async () => {
    const insert = async (id: string, type: string, settled = false) => {
      const letter = deadLetter(id, { type, payload: { "a.b": id } });
      const messages = [
        { letter, seq: 1 },
        ...(settled ? [{ entry: logEntry(letter, "discarded", 1) }] : []),
      ];
      await deadLettersCollection(db).insertOne(toStoredDeadLetter(reduceDeadLetters(messages)!));
    };
    for (const [i, id] of ["d1", "d2", "d3", "d4", "d5", "d6"].entries()) {
      await insert(id, i % 2 === 0 ? "a.x" : "b.y", i === 4);
    }

    const pages = await allPages(async (cursor) => {
      const page = await listDeadLetters(db, { limit: 2, cursor });
      if (cursor === undefined) await insert("d9", "a.x");
      return page;
    });
    expect(pages.map((p) => p.map((d) => d._id))).toEqual([
      ["d1", "d2"],
      ["d3", "d4"],
      ["d6", "d9"],
    ]);
    const typed = await listDeadLetters(db, { type: "a.x", limit: 10 });
    expect(typed.items.map((d) => d._id)).toEqual(["d1", "d3", "d9"]);
    const discarded = await listDeadLetters(db, { state: "discarded", limit: 10 });
    expect(discarded.items.map((d) => [d._id, d.state])).toEqual([["d5", "discarded"]]);

    const found = await findDeadLetter(db, "d2");
    expect(found?.state === "dead" && found.workItem?.payload).toStrictEqual({ "a.b": "d2" });
    expect(await findDeadLetter(db, "missing")).toBeNull();
  });
});
