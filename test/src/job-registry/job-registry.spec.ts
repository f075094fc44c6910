import { setTimeout as sleep } from "node:timers/promises";

import {
  JobTypeLookupError,
  JobTypeRegistry,
  RegistryUnavailableError,
  checkSubmission,
} from "@conveyor/job-registry";
import { startNatsServer, waitFor } from "@conveyor/testing";
import type { NatsServerHandle } from "@conveyor/testing";
import { ensureTopology } from "@conveyor/topology";
import { jetstreamManager } from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";
import { connect } from "@nats-io/transport-node";
import type { NatsConnection } from "@nats-io/transport-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";

import { publishRawHeaders } from "../support/raw-publish.ts";
import { recordingLogger } from "../support/recording-logger.ts";

describe("JobTypeRegistry", () => {
  let server: NatsServerHandle;
  let worker: NatsConnection;
  let gateway: NatsConnection;
  const opened: JobTypeRegistry[] = [];

  const open = async (nc: NatsConnection) => {
    const registry = await JobTypeRegistry.open(nc);
    opened.push(registry);
    return registry;
  };

  beforeAll(async () => {
    server = await startNatsServer();
    worker = await connect({ servers: server.url });
    gateway = await connect({ servers: server.url });
  });

  afterAll(async () => {
    for (const registry of opened) await registry.close();
    await worker.close();
    await gateway.close();
    await server[Symbol.asyncDispose]();
  });

  it("refuses to open before the topology exists", async () => {
    await expect(JobTypeRegistry.open(gateway)).rejects.toBeInstanceOf(RegistryUnavailableError);
  });

  it("shows a type registered on one connection to a watcher on another", async () => {
    await ensureTopology(await jetstreamManager(worker));
    const watcher = await open(gateway);
    expect(watcher.get("sleep")).toBeUndefined();

    const registrar = await open(worker);
    await registrar.register({
      type: "sleep",
      payloadSchema: z.toJSONSchema(z.object({ ms: z.int().min(0) })),
      retry: { maxAttempts: 2 },
    });

    const seen = await waitFor(() => Promise.resolve(watcher.get("sleep")), {
      message: "watcher never saw the registered type",
    });
    expect(seen.retry.maxAttempts).toBe(2);
    expect(
      checkSubmission({ payload: { ms: -1 } }, watcher, { source: "nats", subjectType: "sleep" }),
    ).toMatchObject({ ok: false, reason: "invalid_payload", issues: [{ path: "payload.ms" }] });
  });

  it("loads the types already registered when it opens", async () => {
    const registrar = await open(worker);
    await registrar.register({ type: "email.send", description: "sends one email" });
    const late = await open(gateway);
    expect(late.list().map((d) => d.type)).toEqual(expect.arrayContaining(["email.send", "sleep"]));
    expect(late.get("email.send")?.description).toBe("sends one email");
  });

  it("follows a re-registration with a new schema and a deletion", async () => {
    const watcher = await open(gateway);
    const registrar = await open(worker);
    await registrar.register({ type: "resize", payloadSchema: { type: "object" } });
    await waitFor(() => Promise.resolve(watcher.get("resize")));
    const check = () =>
      checkSubmission({ payload: { width: "big" } }, watcher, {
        source: "nats",
        subjectType: "resize",
      }).ok;
    expect(check()).toBe(true);

    await registrar.register({
      type: "resize",
      payloadSchema: { type: "object", properties: { width: { type: "integer" } } },
    });
    await waitFor(() => Promise.resolve(!check()), { message: "new schema never applied" });

    // Deleted once no worker runs it (a running one would register it again).
    await registrar.close();
    const kv = await new Kvm(worker).open("conveyor-job-types");
    await kv.delete("resize");
    await waitFor(() => Promise.resolve(watcher.get("resize") === undefined), {
      message: "deleted type still known",
    });
  });

  it("keeps the stored descriptor when the same declaration is registered again", async () => {
    const registrar = await open(worker);
    const first = await registrar.register({ type: "report.build", timeoutMs: 5_000 });
    const again = await registrar.register({ type: "report.build", timeoutMs: 5_000 });
    expect(again.registeredAt).toBe(first.registeredAt);
    const changed = await registrar.register({ type: "report.build", timeoutMs: 9_000 });
    expect(changed.timeoutMs).toBe(9_000);
  });

  it("keeps a newer version's declaration when an older worker registers again", async () => {
    const registry = await open(worker);
    const v2 = await registry.register({ type: "invoice.send", timeoutMs: 2000, version: 2 });
    // An old replica restarts during the rolling deploy.
    const kept = await registry.register({ type: "invoice.send", timeoutMs: 1000, version: 1 });
    expect(kept).toEqual(v2);
    expect(registry.get("invoice.send")?.timeoutMs).toBe(2000);
    const v3 = await registry.register({ type: "invoice.send", timeoutMs: 3000, version: 3 });
    expect(v3.timeoutMs).toBe(3000);
    expect(registry.get("invoice.send")?.version).toBe(3);
  });

  it("keeps a newer version's declaration it cannot read when an older worker registers again", async () => {
    // A newer release added a field this one's descriptor schema does not know.
    const kv = await new Kvm(worker).open("conveyor-job-types");
    const newer = {
      type: "report.render",
      timeoutMs: 4000,
      version: 5,
      retry: { maxAttempts: 3, initialDelayMs: 1000, backoffFactor: 2, jitterFactor: 0.5 },
    };
    await kv.put("report.render", JSON.stringify(newer));
    const registry = await open(worker);
    await registry.register({ type: "report.render", timeoutMs: 1000, version: 1 });
    const stored = await kv.get("report.render");
    expect(stored?.json()).toEqual(newer);
    // A declaration of a higher version still replaces it.
    await registry.register({ type: "report.render", timeoutMs: 6000, version: 6 });
    expect((await kv.get("report.render"))?.json()).toMatchObject({ version: 6, timeoutMs: 6000 });
  });

  it("tells the version in force, from a declaration it reads and from one it cannot read", async () => {
    const kv = await new Kvm(worker).open("conveyor-job-types");
    const registry = await open(worker);
    await registry.register({ type: "pdf.merge", version: 2 });
    expect(registry.versionInForce("pdf.merge")).toBe(2);
    // A newer release's declaration with a field this one does not know.
    await kv.put("pdf.merge", JSON.stringify({ type: "pdf.merge", version: 7, pages: "all" }));
    await waitFor(() => Promise.resolve(registry.versionInForce("pdf.merge") === 7), {
      message: "the unreadable newer declaration's version was not followed",
    });
    expect(registry.get("pdf.merge")).toBeUndefined();
    expect(registry.versionInForce("never.registered")).toBeUndefined();
  });

  it("lets two workers registering one type at once agree on the declaration in force", async () => {
    const [a, b] = [await open(worker), await open(gateway)];
    const results = await Promise.all([
      a.register({ type: "race.me", timeoutMs: 1111, version: 5 }),
      b.register({ type: "race.me", timeoutMs: 2222, version: 6 }),
      a.register({ type: "race.me", timeoutMs: 3333, version: 4 }),
    ]);
    const stored = await (await new Kvm(worker).open("conveyor-job-types")).get("race.me");
    // Whatever the order, the highest version is in force, and no write went unseen.
    expect(stored?.json<{ version: number; timeoutMs: number }>()).toMatchObject({
      version: 6,
      timeoutMs: 2222,
    });
    expect(results[1]?.version).toBe(6);
    // Both registries follow the bucket to the declaration in force.
    await waitFor(
      () => Promise.resolve(a.get("race.me")?.version === 6 && b.get("race.me")?.version === 6),
      { message: "the registries never agreed on version 6" },
    );
  });

  it("ignores an entry whose descriptor names another type than its key", async () => {
    // Written by hand: the key would accept jobs under the other type's declaration.
    const kv = await new Kvm(worker).open("conveyor-job-types");
    await kv.put("alias.type", JSON.stringify({ type: "other.type", timeoutMs: 1000 }));
    const registry = await open(gateway);
    expect(registry.get("alias.type")).toBeUndefined();
  });

  it("checks a client's string against a registered pattern in linear time, and warns of a pattern that cannot be", async () => {
    const { logger, warnings } = recordingLogger();
    const registrar = await JobTypeRegistry.open(worker, { logger });
    opened.push(registrar);
    await registrar.register({
      type: "post.publish",
      payloadSchema: z.toJSONSchema(
        z.object({ title: z.string().regex(/^(\w+\s?)*$/), host: z.hostname().optional() }),
      ),
    });
    const message =
      "these payload patterns cannot run on RE2 (lookarounds, backreferences, repeats over " +
      "1,000), so they run on V8's backtracking engine, where a client's string can take " +
      "exponential time; the others run in linear time";
    expect(warnings(message)).toEqual([
      { type: "post.publish", patterns: [expect.stringContaining("(?=")] },
    ]);
    const watcher = await open(gateway);
    await waitFor(() => Promise.resolve(watcher.get("post.publish") !== undefined));
    // V8's backtracking engine would take ages over this title; it is refused at once.
    const check = checkSubmission({ payload: { title: `${"word ".repeat(10_000)}!` } }, watcher, {
      source: "nats",
      subjectType: "post.publish",
    });
    expect(check).toMatchObject({
      ok: false,
      reason: "invalid_payload",
      issues: [{ path: "payload.title" }],
    });
  });

  it("looks a type its watch has not shown yet up in the bucket, and remembers a miss for a second", async () => {
    const kv = await new Kvm(worker).open("conveyor-job-types");
    const watcher = await open(gateway);
    // A registry whose watch has not delivered what is written next (here: stopped).
    await watcher.close();
    const descriptor = await (await open(worker)).register({ type: "fresh.type" });
    expect(watcher.get("fresh.type")).toBeUndefined();
    expect(await watcher.lookup("fresh.type")).toEqual(descriptor);
    expect(watcher.get("fresh.type")).toEqual(descriptor);

    // A producer of a misspelled type would otherwise have every message read the bucket.
    expect(await watcher.lookup("later.type")).toBeUndefined();
    await kv.put("later.type", JSON.stringify({ ...descriptor, type: "later.type" }));
    expect(await watcher.lookup("later.type")).toBeUndefined();
    await sleep(1100);
    expect(await watcher.lookup("later.type")).toMatchObject({ type: "later.type" });
    // A type that cannot be a key is not asked at all.
    expect(await watcher.lookup("no spaces allowed")).toBeUndefined();
  });

  it("opens and follows a bucket holding an entry whose headers nats.js cannot read", async () => {
    // Written by another client (nats.go sends a header name with a space as given).
    const descriptor = JSON.stringify(await (await open(worker)).register({ type: "raw.headers" }));
    await publishRawHeaders(
      server.url,
      "$KV.conveyor-job-types.raw.headers",
      ["bad key: x"],
      descriptor,
    );
    const registry = await open(gateway);
    expect(registry.get("raw.headers")).toMatchObject({ type: "raw.headers" });
    await (await open(worker)).register({ type: "after.raw" });
    await waitFor(() => Promise.resolve(registry.get("after.raw") !== undefined));
  });

  it("ignores an unreadable entry instead of failing", async () => {
    const kv = await new Kvm(worker).open("conveyor-job-types");
    await kv.put("broken", "{not json");
    const registry = await open(gateway);
    expect(registry.get("broken")).toBeUndefined();
    expect(registry.get("sleep")).toBeDefined();
  });

  // Last: it deletes the bucket the tests above registered into.
  it("fails a look-up whose read fails, instead of calling the type unknown, and forgets it", async () => {
    // An unknown type is refused for good (over NATS) or with a 422: a read that failed (NATS
    // reconnecting, the bucket's stream moving) must not be taken for a miss.
    const jsm = await jetstreamManager(worker);
    const watcher = await open(gateway);
    await watcher.close();
    await jsm.streams.delete("KV_conveyor-job-types");
    try {
      await expect(watcher.lookup("during.outage")).rejects.toBeInstanceOf(JobTypeLookupError);
    } finally {
      await ensureTopology(jsm);
    }
    await (await open(worker)).register({ type: "during.outage" });
    // Not remembered as a miss: found at once.
    expect(await watcher.lookup("during.outage")).toMatchObject({ type: "during.outage" });
  });
});
