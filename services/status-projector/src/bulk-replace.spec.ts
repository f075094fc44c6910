import { isDeepStrictEqual } from "node:util";

import { BSON, MongoBulkWriteError, MongoNetworkError, MongoServerError } from "mongodb";
import type { Collection } from "mongodb";
import { describe, expect, it } from "vitest";

import { bulkReplace, bulkReplaceRevisions } from "./bulk-replace.ts";
import { StoreConflictError } from "./errors.ts";

interface Doc {
  _id: string;
  n: number;
}

/**
 * A collection whose `bulkWrite` fails with `failure(ids)` when that returns an error, and
 * otherwise stores the documents, as the server would.
 */
function collection(failure: (ids: string[]) => Error | undefined) {
  const stored = new Map<string, Doc>();
  const fake = {
    collectionName: "jobs",
    bulkWrite(ops: { replaceOne: { replacement: Doc } }[]) {
      const docs = ops.map((op) => op.replaceOne.replacement);
      const err = failure(docs.map((doc) => doc._id));
      if (err !== undefined) return Promise.reject(err);
      for (const doc of docs) stored.set(doc._id, doc);
      return Promise.resolve({});
    },
  };
  return { collection: fake as unknown as Collection<Doc>, stored };
}

const docs: Doc[] = [
  { _id: "good-1", n: 1 },
  { _id: "bad", n: 2 },
  { _id: "good-2", n: 3 },
];

const serverError = (code: number, codeName: string) =>
  new MongoServerError({ message: codeName, errmsg: codeName, code, codeName });

const bulkError = (code: number) =>
  new MongoBulkWriteError(
    {
      message: "write failed",
      code,
      writeErrors: [{ code, index: 0, errmsg: "refused" }],
    } as never,
    {} as never,
  );

/** The signal of an attempt that is still wanted. */
const live = new AbortController().signal;

describe("bulkReplace", () => {
  it("writes nothing more once its attempt is abandoned", async () => {
    const abandon = new AbortController();
    const written: string[][] = [];
    const { collection: c, stored } = collection((ids) => {
      written.push(ids);
      // The first command is the one that outlived its deadline.
      abandon.abort(new Error("deadline"));
      return undefined;
    });
    const many = Array.from({ length: 120 }, (_, n) => ({ _id: `job-${n}`, n }));

    await expect(bulkReplace(c, many, abandon.signal)).rejects.toThrow("deadline");
    expect(written).toHaveLength(1);
    expect(stored.size).toBe(50);
  });

  it("stores every document with one write when nothing fails", async () => {
    const { collection: c, stored } = collection(() => undefined);
    expect(await bulkReplace(c, docs, live)).toEqual([]);
    expect([...stored.keys()]).toEqual(["good-1", "bad", "good-2"]);
  });

  it("refuses a document the driver cannot encode (a NUL in a key) and stores the others", async () => {
    const { collection: c, stored } = collection((ids) =>
      ids.includes("bad")
        ? new BSON.BSONError("key a\u0000b must not contain null bytes")
        : undefined,
    );
    const refused = await bulkReplace(c, docs, live);
    expect(refused).toMatchObject([{ collection: "jobs", id: "bad", error: "BSONError" }]);
    expect([...stored.keys()].sort()).toEqual(["good-1", "good-2"]);
  });

  it("refuses a document too large to encode and stores the others", async () => {
    const tooLarge = Object.assign(new RangeError('The value of "offset" is out of range.'), {
      code: "ERR_OUT_OF_RANGE",
    });
    const { collection: c, stored } = collection((ids) =>
      ids.includes("bad") ? tooLarge : undefined,
    );
    expect(await bulkReplace(c, docs, live)).toMatchObject([
      { id: "bad", code: "ERR_OUT_OF_RANGE" },
    ]);
    expect(stored.size).toBe(2);
  });

  it("refuses documents the server refuses with a known refusal code", async () => {
    for (const code of [2, 10334, 121]) {
      const { collection: c, stored } = collection((ids) =>
        ids.includes("bad") ? bulkError(code) : undefined,
      );
      expect(await bulkReplace(c, docs, live)).toMatchObject([{ id: "bad", code }]);
      expect(stored.size).toBe(2);
    }
  });

  it("throws, for the caller to retry, an unlabelled server error that is no known refusal", async () => {
    const transient = [
      serverError(50, "MaxTimeMSExpired"),
      serverError(11602, "InterruptedDueToReplStateChange"),
      serverError(1, "InternalError"),
      bulkError(91),
    ];
    for (const err of transient) {
      const { collection: c, stored } = collection(() => err);
      await expect(bulkReplace(c, docs, live)).rejects.toBe(err);
      expect(stored.size).toBe(0);
    }
  });

  it("throws when the server becomes unreachable while documents are written one by one", async () => {
    const lost = new MongoNetworkError("connection closed");
    const { collection: c } = collection((ids) =>
      ids.length > 1 ? new BSON.BSONError("bad key") : ids[0] === "good-2" ? lost : undefined,
    );
    await expect(bulkReplace(c, docs, live)).rejects.toBe(lost);
  });
});

interface RevisedDoc {
  _id: string;
  revision: number;
}

interface FencedOp {
  replaceOne: { filter: { _id: string; revision?: unknown }; replacement: RevisedDoc };
}

/** What a document's stored `revision` holds: a value, or none (`absent`). */
const absent = Symbol("absent");
type StoredRevision = unknown;

/**
 * A collection holding `stored` (id -> stored revision, {@link absent} for none) that runs fenced
 * upserts as FerretDB does: in order, stopping at the first duplicate `_id` and reporting it at
 * index 0 whatever its position.
 */
function revisedCollection(stored: Map<string, StoredRevision>) {
  const commands: string[][] = [];
  const fake = {
    collectionName: "jobs",
    bulkWrite(ops: FencedOp[]) {
      commands.push(ops.map((op) => op.replaceOne.replacement._id));
      for (const { replaceOne } of ops) {
        const { _id, revision } = replaceOne.filter;
        const matches = isDeepStrictEqual(revision, { $exists: false })
          ? stored.get(_id) === absent
          : stored.get(_id) === revision;
        if (!matches && stored.has(_id)) return Promise.reject(bulkError(11000));
        stored.set(_id, replaceOne.replacement.revision);
      }
      return Promise.resolve({});
    },
  };
  return { collection: fake as unknown as Collection<RevisedDoc>, commands };
}

/** Each document replaces what `read` says was read of its job (none when not named). */
const readAs = (read: Record<string, StoredRevision>) => (doc: RevisedDoc) =>
  Object.hasOwn(read, doc._id) ? read[doc._id] : undefined;

describe("bulkReplaceRevisions", () => {
  it("replaces exactly the revision read, and inserts a job that has no document", async () => {
    const stored = new Map<string, StoredRevision>([
      ["at-1", 1],
      ["unrevised", absent],
      ["edited", null],
      ["text", "3"],
    ]);
    const { collection: c, commands } = revisedCollection(stored);
    const docs = [
      { _id: "at-1", revision: 2 },
      { _id: "unrevised", revision: 1 },
      { _id: "edited", revision: 1 },
      { _id: "text", revision: 1 },
      { _id: "new", revision: 1 },
    ];
    const replaces = readAs({ "at-1": 1, edited: null, text: "3" });
    expect(await bulkReplaceRevisions(c, docs, live, { replaces })).toEqual({
      refused: [],
      conflicts: [],
    });
    expect(commands).toHaveLength(1);
    expect(Object.fromEntries(stored)).toEqual({
      "at-1": 2,
      unrevised: 1,
      edited: 1,
      text: 1,
      new: 1,
    });
  });

  it("returns the documents stored at another revision, unwritten, and stores the rest", async () => {
    const stored = new Map<string, StoredRevision>([
      ["a", 1],
      ["newer", 5],
      ["b", 1],
    ]);
    const { collection: c } = revisedCollection(stored);
    const [a, stale, b] = [
      { _id: "a", revision: 2 },
      { _id: "newer", revision: 2 },
      { _id: "b", revision: 2 },
    ];
    const stamped: string[] = [];
    const outcome = await bulkReplaceRevisions(c, [a, stale, b], live, {
      replaces: readAs({ a: 1, newer: 1, b: 1 }),
      onStored: (doc) => stamped.push(doc._id),
    });
    // The bulk stored "a" before it stopped at "newer", so written again "a" meets its own
    // revision: a conflict too, which the caller's read of it resolves.
    expect(outcome).toEqual({ refused: [], conflicts: [a, stale] });
    expect(Object.fromEntries(stored)).toEqual({ a: 2, newer: 5, b: 2 });
    expect(stamped).toEqual(["b"]);
  });
});

describe("bulkReplaceRevisions without a fence", () => {
  it("replaces by _id alone, whatever revision is stored", async () => {
    const filters: unknown[] = [];
    const fake = {
      collectionName: "jobs",
      bulkWrite(ops: FencedOp[]) {
        filters.push(...ops.map((op) => op.replaceOne.filter));
        return Promise.resolve({});
      },
    } as unknown as Collection<RevisedDoc>;
    const docs = [
      { _id: "a", revision: 3 },
      { _id: "b", revision: 1 },
    ];
    const replaces = readAs({ a: 2 });
    expect(await bulkReplaceRevisions(fake, docs, live, { replaces, fence: false })).toEqual({
      refused: [],
      conflicts: [],
    });
    expect(filters).toEqual([{ _id: "a" }, { _id: "b" }]);
  });
});

describe("bulkReplace", () => {
  it("throws a conflict, for the caller to retry, when an upsert meets a duplicate _id", async () => {
    const { collection: c, stored } = collection(() => bulkError(11000));
    await expect(bulkReplace(c, docs, live)).rejects.toBeInstanceOf(StoreConflictError);
    expect(stored.size).toBe(0);
  });
});
