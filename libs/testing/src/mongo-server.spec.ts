import { MongoClient } from "mongodb";
import { describe, expect, it } from "vitest";

import { startMongoServer } from "./mongo-server.ts";
import { uniqueName } from "./unique-name.ts";

describe("startMongoServer", () => {
  it("starts FerretDB that stores and reads documents through the mongodb driver", async () => {
    await using server = await startMongoServer({ env: { ...process.env, MONGO_URL: "" } });
    const client = new MongoClient(server.url);
    try {
      const db = client.db(uniqueName("harness"));
      await db.collection("jobs").insertOne({ _id: "j1" as never, status: "queued" });
      const doc = await db.collection("jobs").findOne({ _id: "j1" as never });
      expect(doc?.status).toBe("queued");
    } finally {
      await client.close();
    }
  });

  it("stop() makes the server unreachable", async () => {
    await using server = await startMongoServer({ env: { ...process.env, MONGO_URL: "" } });
    await server.stop();
    const client = new MongoClient(server.url, { serverSelectionTimeoutMS: 500 });
    try {
      await expect(client.db("admin").command({ ping: 1 })).rejects.toThrow();
    } finally {
      await client.close();
    }
  });

  it("restart() brings the server back on the same URL with the documents it stored", async () => {
    await using server = await startMongoServer({ env: { ...process.env, MONGO_URL: "" } });
    const dbName = uniqueName("harness");
    const before = new MongoClient(server.url);
    try {
      await before
        .db(dbName)
        .collection("jobs")
        .insertOne({ _id: "j1" as never, status: "dead" });
    } finally {
      await before.close();
    }
    await server.restart();
    const after = new MongoClient(server.url);
    try {
      const doc = await after
        .db(dbName)
        .collection("jobs")
        .findOne({ _id: "j1" as never });
      expect(doc?.status).toBe("dead");
    } finally {
      await after.close();
    }
  });

  it("reuses the server named by MONGO_URL", async () => {
    const reused = await startMongoServer({ env: { MONGO_URL: "mongodb://127.0.0.1:1/" } });
    expect(reused.url).toBe("mongodb://127.0.0.1:1/");
    await reused.stop();
    await expect(reused.restart()).rejects.toThrow(/MONGO_URL/);
  });
});
