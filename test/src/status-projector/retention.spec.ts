import type { JobEvent } from "@conveyor/contracts";
import {
  applyEvent,
  deadLettersCollection,
  deleteExpired,
  ensureIndexes,
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

function jobAfter(events: readonly JobEvent[], count = events.length): JobDocument {
  return events.slice(0, count).reduce<JobDocument | undefined>(applyEvent, undefined)!;
}

/** A finished job whose status and `finishedAt` are as given. */
function finished(id: string, status: "succeeded" | "cancelled" | "dead", at: string): JobDocument {
  const doc = jobAfter(jobHistory(id, { end: status === "dead" ? "dead" : "succeeded" }));
  return { ...doc, status, finishedAt: at, updatedAt: at };
}

/** A job that has not finished, last changed `at`. */
function unfinished(id: string, events: number, at: string): JobDocument {
  const doc = jobAfter(jobHistory(id, { failures: 1 }), events);
  expect(doc.finishedAt).toBeUndefined();
  return { ...doc, updatedAt: at };
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
        finished("succeeded-old", "succeeded", hoursAgo(25)),
        finished("succeeded-older", "succeeded", hoursAgo(2000)),
        finished("succeeded-new", "succeeded", hoursAgo(23)),
        finished("cancelled-old", "cancelled", hoursAgo(30)),
        finished("cancelled-new", "cancelled", hoursAgo(1)),
        finished("dead-old", "dead", hoursAgo(73)),
        finished("dead-new", "dead", hoursAgo(71)),
        // Not finished, however long ago they last changed: queued, running, failed and retrying.
        unfinished("queued-old", 1, hoursAgo(5000)),
        unfinished("running-old", 2, hoursAgo(5000)),
        unfinished("retrying-old", 5, hoursAgo(5000)),
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
    { batchSize: 2, steps: "in steps of 2 ids" },
    { batchSize: 0, steps: "with one command per kind" },
  ])("deletes what has outlived its age and nothing else, $steps", async ({ batchSize }) => {
    const counts = await deleteExpired(db, policy, { now, batchSize });

    expect(counts).toEqual({ jobs: 4, rejections: 1, deadLetters: 2 });
    expect(await ids(db, "jobs")).toEqual([
      "cancelled-new",
      "dead-new",
      "queued-old",
      "retrying-old",
      "running-old",
      "succeeded-new",
    ]);
    expect(await ids(db, "rejections")).toEqual(["rejection-new"]);
    expect(await ids(db, "dead_letters")).toEqual(["letter-open-new", "letter-settled-new"]);
    // A second sweep finds nothing left to delete.
    expect(await deleteExpired(db, policy, { now, batchSize })).toEqual({
      jobs: 0,
      rejections: 0,
      deadLetters: 0,
    });
  });

  it("keeps every kind whose age limit is 0", async () => {
    const keepAll = { finishedJobsMs: 0, deadJobsMs: 0, openDeadLettersMs: 0, rejectionsMs: 0 };
    expect(await deleteExpired(db, keepAll, { now })).toEqual({
      jobs: 0,
      rejections: 0,
      deadLetters: 0,
    });
    expect(await ids(db, "jobs")).toHaveLength(10);

    const onlyDead = { ...keepAll, deadJobsMs: policy.deadJobsMs };
    expect(await deleteExpired(db, onlyDead, { now })).toEqual({
      jobs: 1,
      rejections: 0,
      deadLetters: 1,
    });
    expect(await ids(db, "dead_letters")).toEqual([
      "letter-open-new",
      "letter-open-old",
      "letter-settled-new",
    ]);
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
    expect(await ids(db, "jobs")).toHaveLength(9);
    expect(await ids(db, "rejections")).toEqual(["rejection-new", "rejection-old"]);
  });
});
