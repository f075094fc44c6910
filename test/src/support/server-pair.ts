import { startMongoServer, startNatsServer } from "@conveyor/testing";
import type { MongoServerHandle, NatsServerHandle } from "@conveyor/testing";
import { afterAll, beforeAll } from "vitest";

import { started } from "./started.ts";

/**
 * A NATS server and a MongoDB server for one suite, started together. Read the fields inside tests
 * and hooks: they are set by the suite's `beforeAll`, and reading one earlier throws.
 */
export class ServerPair {
  #nats: NatsServerHandle | undefined;
  #mongo: MongoServerHandle | undefined;

  get nats(): NatsServerHandle {
    return started(this.#nats, "ServerPair.nats");
  }
  get mongo(): MongoServerHandle {
    return started(this.#mongo, "ServerPair.mongo");
  }

  async start(): Promise<void> {
    [this.#nats, this.#mongo] = await Promise.all([startNatsServer(), startMongoServer()]);
  }

  async stop(): Promise<void> {
    await Promise.all([this.#nats?.[Symbol.asyncDispose](), this.#mongo?.[Symbol.asyncDispose]()]);
  }
}

/**
 * A {@link ServerPair} for the enclosing `describe` (or file): started before its first test and
 * stopped after its last, after the `afterAll` hooks registered later.
 */
export function useServerPair(): ServerPair {
  const servers = new ServerPair();
  beforeAll(() => servers.start());
  afterAll(() => servers.stop());
  return servers;
}
