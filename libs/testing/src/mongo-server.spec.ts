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

  it("reuses the server named by MONGO_URL", async () => {
    const reused = await startMongoServer({ env: { MONGO_URL: "mongodb://127.0.0.1:1/" } });
    expect(reused.url).toBe("mongodb://127.0.0.1:1/");
    await reused.stop();
  });
});
