import { startMongoServer } from "@conveyor/testing";
import type { MongoServerHandle } from "@conveyor/testing";
import { MongoClient } from "mongodb";
import { afterAll, beforeAll } from "vitest";

import { started } from "./started.ts";

/** A MongoDB server and a client of it, for the tests of one suite. */
export class MongoSuite {
  #server: MongoServerHandle | undefined;
  #client: MongoClient | undefined;

  get server(): MongoServerHandle {
    return started(this.#server, "MongoSuite.server");
  }
  get client(): MongoClient {
    return started(this.#client, "MongoSuite.client");
  }

  async start(): Promise<void> {
    this.#server = await startMongoServer();
    this.#client = await MongoClient.connect(this.#server.url);
  }

  async stop(): Promise<void> {
    await this.#client?.close();
    await this.#server?.[Symbol.asyncDispose]();
  }
}

/**
 * A {@link MongoSuite} for the enclosing `describe` (or file): started before its first test and
 * stopped after its last, after the `afterAll` hooks registered later.
 */
export function useMongoSuite(): MongoSuite {
  const suite = new MongoSuite();
  beforeAll(() => suite.start());
  afterAll(() => suite.stop());
  return suite;
}
