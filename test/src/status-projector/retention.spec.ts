import type { JobEvent } from "@conveyor/contracts";
import {
  applyEvent,
  deadLettersCollection,
  deleteExpired,
  deleteIfExpired,
  ensureIndexes,
  expiredIds,
  findJob,
  jobsCollection,
  rejectionFromEvent,
  rejectionsCollection,
  toStoredDeadLetter,
  toStoredJob,
} from "@conveyor/read-model";
import type { DeadLetterDocument, JobDocument, RetentionPolicy } from "@conveyor/read-model";
import { uniqueName } from "@conveyor/testing";
import type { Db } from "mongodb";
import { beforeEach, describe, expect, it } from "vitest";

import { useMongoSuite } from "../support/mongo-suite.ts";

import { deadLetter, logEntry, reduceDeadLetters } from "./dead-letters.ts";
import { jobHistory, rejection } from "./events.ts";

const hourMs = 3_600_000;
const now = new Date("2026-06-01T12:00:00.000Z");
const hoursAgo = (hours: number) => new Date(now.getTime() - hours * hourMs).toISOString();

const policy: RetentionPolicy = {
  finishedJobsMs: 24 * hourMs,
  deadJobsMs: 72 * hourMs,
  openDeadLettersMs: 720 * hourMs,
  rejectionsMs: 48 * hourMs,
};

const atMs = (hours: number) => now.getTime() - hours * hourMs;

function jobAfter(events: readonly JobEvent[], count = events.length): JobDocument {
  return events.slice(0, count).reduce<JobDocument | undefined>(applyEvent, undefined)!;
}

/** A job that succeeded (or died of its attempts) `hours` ago, as its events make it. */
function ended(id: string, hours: number, end: "succeeded" | "dead" = "succeeded"): JobDocument {
  return jobAfter(jobHistory(id, { end, reports: 0 }, atMs(hours)));
}

/** A job the dispatcher ended before any attempt: a cancel while queued, or a dead job. */
function endedWhileQueued(id: string, hours: number, kind: "cancelled" | "dead"): JobDocument {
  const [queued] = jobHistory(id, {}, atMs(hours));
  const common = { jobId: id, type: queued!.type, run: 1, attempt: 0, at: queued!.at };
  const end: JobEvent =
    kind === "cancelled"
      ? { ...common, kind, reason: "cancelled by request" }
      : { ...common, kind, reason: "deliveries_exceeded", error: { message: "gave up" } };
  const doc = jobAfter([queued!, end]);
  expect(doc).toMatchObject({ status: kind, finishedAt: end.at });
  return doc;
}

/** A job that has not finished, whose events began `hours` ago. */
function unfinished(id: string, events: number, hours: number): JobDocument {
  const doc = jobAfter(jobHistory(id, { failures: 1 }, atMs(hours)), events);
  expect(doc.finishedAt).toBeUndefined();
  return doc;
}

/** A job that died `hours` ago and whose letter was replayed: its second run is queued. */
function replayed(id: string, hours: number): JobDocument {
  const events = jobHistory(id, { runs: 2, reports: 0 }, atMs(hours));
  const secondQueued = events.findIndex((e) => e.kind === "queued" && e.run === 2);
  const doc = jobAfter(events, secondQueued + 1);
  expect(doc).toMatchObject({ status: "queued", run: 2 });
  return doc;
}

function openLetter(jobId: string, deadAt: string): DeadLetterDocument {
  return {
    ...reduceDeadLetters([{ letter: deadLetter(jobId), seq: 7 }])!,
    deadAt,
  } as DeadLetterDocument;
}

function settledLetter(jobId: string, settledAt: string): DeadLetterDocument {
  const letter = deadLetter(jobId);
  return reduceDeadLetters([
    { letter, seq: 7 },
    { entry: logEntry(letter, "replayed", 7, settledAt) },
  ])!;
}

async function ids(db: Db, collection: string): Promise<string[]> {
  const docs = await db.collection<{ _id: string }>(collection).find({}).toArray();
  return docs.map((doc) => doc._id).sort();
}

describe("read-model retention (deleteExpired)", () => {
  const mongo = useMongoSuite();
  let db: Db;

  beforeEach(async () => {
    db = mongo.client.db(uniqueName("retention"));
    await ensureIndexes(db);
    await jobsCollection(db).insertMany(
      [
        ended("succeeded-old", 25),
        ended("succeeded-older", 2000),
        ended("succeeded-new", 23),
        endedWhileQueued("cancelled-old", 30, "cancelled"),
        endedWhileQueued("cancelled-new", 1, "cancelled"),
        ended("dead-old", 73, "dead"),
        endedWhileQueued("dead-by-dispatcher-old", 80, "dead"),
        ended("dead-new", 71, "dead"),
        // Not finished, however long ago they began: queued, running, failed and retrying, and
        // a dead job replayed into a new run.
        unfinished("queued-old", 1, 5000),
        unfinished("running-old", 2, 5000),
        unfinished("retrying-old", 5, 5000),
        replayed("replayed-old", 5000),
      ].map(toStoredJob),
    );
    await rejectionsCollection(db).insertMany([
      rejectionFromEvent(rejection("rejection-old", hoursAgo(49))),
      rejectionFromEvent(rejection("rejection-new", hoursAgo(47))),
    ]);
    await deadLettersCollection(db).insertMany(
      [
        openLetter("letter-open-old", hoursAgo(721)),
        openLetter("letter-open-new", hoursAgo(100)),
        settledLetter("letter-settled-old", hoursAgo(73)),
        settledLetter("letter-settled-new", hoursAgo(71)),
      ].map(toStoredDeadLetter),
    );
  });

  it.each([
    { batchSize: 2, recheck: true, steps: "in steps of 2, checked again" },
    { batchSize: 1000, recheck: false, steps: "in one step, by id alone" },
  ])(
    "deletes what has outlived its age and nothing else, $steps",
    async ({ batchSize, recheck }) => {
      const counts = await deleteExpired(db, policy, { now, batchSize, recheck });

      expect(counts).toEqual({ jobs: 5, rejections: 1, deadLetters: 2 });
      expect(await ids(db, "jobs")).toEqual([
        "cancelled-new",
        "dead-new",
        "queued-old",
        "replayed-old",
        "retrying-old",
        "running-old",
        "succeeded-new",
      ]);
      expect(await ids(db, "rejections")).toEqual(["rejection-new"]);
      expect(await ids(db, "dead_letters")).toEqual(["letter-open-new", "letter-settled-new"]);
      // A second sweep finds nothing left to delete.
      expect(await deleteExpired(db, policy, { now, batchSize, recheck })).toEqual({
        jobs: 0,
        rejections: 0,
        deadLetters: 0,
      });
    },
  );

  it("keeps every kind whose age limit is 0", async () => {
    const keepAll = { finishedJobsMs: 0, deadJobsMs: 0, openDeadLettersMs: 0, rejectionsMs: 0 };
    expect(await deleteExpired(db, keepAll, { now })).toEqual({
      jobs: 0,
      rejections: 0,
      deadLetters: 0,
    });
    expect(await ids(db, "jobs")).toHaveLength(12);

    const onlyDead = { ...keepAll, deadJobsMs: policy.deadJobsMs };
    expect(await deleteExpired(db, onlyDead, { now })).toEqual({
      jobs: 2,
      rejections: 0,
      deadLetters: 1,
    });
    expect(await ids(db, "dead_letters")).toEqual([
      "letter-open-new",
      "letter-open-old",
      "letter-settled-new",
    ]);
  });

  it("deletes only what is still expired when it deletes: a job replayed since it was found stays", async () => {
    const found = await expiredIds(db, policy, "jobs", { now, limit: 100 });
    expect([...found].sort()).toEqual([
      "cancelled-old",
      "dead-by-dispatcher-old",
      "dead-old",
      "succeeded-old",
      "succeeded-older",
    ]);
    // The dead job's letter is replayed meanwhile: its document now holds a queued second run.
    await jobsCollection(db).replaceOne({ _id: "dead-old" }, toStoredJob(replayed("dead-old", 73)));

    expect(await deleteIfExpired(db, policy, "jobs", found, { now })).toBe(4);
    expect(await findJob(db, "dead-old")).toMatchObject({ status: "queued", run: 2 });
  });

  it(
    "deletes more expired documents than one SQLite statement can name",
    { timeout: 120_000 },
    async () => {
      // FerretDB on SQLite binds a variable per document a command deletes, and SQLite takes at
      // most 32,766: one deleteMany of them all failed and deleted nothing.
      const many = 32_800;
      // Only the fields the sweep reads, so that writing them takes seconds, not a minute.
      const finishedAt = hoursAgo(25);
      for (let i = 0; i < many; i += 4000) {
        const chunk = Array.from({ length: Math.min(4000, many - i) }, (_, k) => ({
          _id: `bulk-${i + k}`,
          status: "succeeded",
          finishedAt,
        }));
        await db.collection<{ _id: string }>("jobs").insertMany(chunk);
      }
      // By id alone, as the sweeper deletes on FerretDB, which looks up nothing else by index.
      const r = await deleteExpired(db, policy, { now, recheck: false });
      expect(r).toEqual({
        jobs: many + 5,
        rejections: 1,
        deadLetters: 2,
      });
      expect(await ids(db, "jobs")).toHaveLength(7);
    },
  );

  it("refuses a step size that is not a positive integer", async () => {
    for (const batchSize of [0, -1, 1.5]) {
      await expect(deleteExpired(db, policy, { now, batchSize })).rejects.toThrow(RangeError);
    }
    expect(await ids(db, "jobs")).toHaveLength(12);
  });

  it("starts no step once it is stopping", async () => {
    expect(await deleteExpired(db, policy, { now, stopping: () => true })).toEqual({
      jobs: 0,
      rejections: 0,
      deadLetters: 0,
    });

    let asked = 0;
    // Asked before the first kind and before each of its steps: the third answer stops it after
    // one step of one id.
    const counts = await deleteExpired(db, policy, {
      now,
      batchSize: 1,
      stopping: () => ++asked > 2,
    });
    expect(counts).toEqual({ jobs: 1, rejections: 0, deadLetters: 0 });
    expect(await ids(db, "jobs")).toHaveLength(11);
    expect(await ids(db, "rejections")).toEqual(["rejection-new", "rejection-old"]);
  });
});
