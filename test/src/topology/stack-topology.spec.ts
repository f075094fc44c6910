import { StreamName } from "@conveyor/contracts";
import { prepareStackTopology } from "@conveyor/stack";
import { startNatsServer } from "@conveyor/testing";
import type { NatsServerHandle } from "@conveyor/testing";
import { ensureTopology } from "@conveyor/topology";
import { jetstreamManager } from "@nats-io/jetstream";
import type { JetStreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import type { NatsConnection } from "@nats-io/transport-node";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";

const hourMs = 3_600_000;
const nanos = (ms: number) => ms * 1_000_000;
/** What `npm start` asks for by default: a week of events. */
const stackDefaults = { eventsMaxAgeMs: 168 * hourMs, jobsMaxAgeMs: 168 * hourMs };

describe("the stack's topology (npm start)", () => {
  let server: NatsServerHandle;
  let nc: NatsConnection;
  let jsm: JetStreamManager;

  beforeAll(async () => {
    server = await startNatsServer();
    nc = await connect({ servers: server.url });
    jsm = await jetstreamManager(nc);
  });

  afterAll(async () => {
    await nc.close();
    await server[Symbol.asyncDispose]();
  });

  beforeEach(async () => {
    for await (const name of jsm.streams.names()) await jsm.streams.delete(name);
    // As an operator provisioned it: a day of events.
    await ensureTopology(jsm, { eventsMaxAgeMs: 24 * hourMs });
  });

  const eventsMaxAge = async () => (await jsm.streams.info(StreamName.Events)).config.max_age;

  it("keeps the complete topology of servers it was pointed at (NATS_URL) as provisioned", async () => {
    expect(await prepareStackTopology(jsm, stackDefaults, false)).toBe("kept");
    expect(await eventsMaxAge()).toBe(nanos(24 * hourMs));
  });

  it("creates what is missing on servers it was pointed at", async () => {
    await jsm.streams.delete(StreamName.Work);
    expect(await prepareStackTopology(jsm, stackDefaults, false)).toBe("completed");
    expect((await jsm.streams.info(StreamName.Work)).config.name).toBe(StreamName.Work);
    // What was there stays as provisioned.
    expect(await eventsMaxAge()).toBe(nanos(24 * hourMs));
  });

  it("brings its own server's topology to its configuration", async () => {
    expect(await prepareStackTopology(jsm, stackDefaults, true)).toBe("ensured");
    expect(await eventsMaxAge()).toBe(nanos(168 * hourMs));
  });
});
