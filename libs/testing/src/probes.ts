import { jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { MongoClient } from "mongodb";

/**
 * True when the nats-server at `url` accepts a client and its JetStream API answers (which means
 * streams recovered from disk are loaded). Throws while it does not.
 */
export async function probeNats(url: string): Promise<boolean> {
  const nc = await connect({ servers: url, timeout: 1000, reconnect: false });
  try {
    const jsm = await jetstreamManager(nc);
    await jsm.getAccountInfo();
    return true;
  } finally {
    await nc.close();
  }
}

/** True when the MongoDB-compatible server at `url` answers a ping. Throws while it does not. */
export async function probeMongo(url: string): Promise<boolean> {
  const client = new MongoClient(url, { serverSelectionTimeoutMS: 1000, connectTimeoutMS: 1000 });
  try {
    await client.db("admin").command({ ping: 1 });
    return true;
  } finally {
    await client.close();
  }
}
