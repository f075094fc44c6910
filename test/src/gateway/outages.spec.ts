import { StreamName } from "@conveyor/contracts";
import { jobsCollection } from "@conveyor/read-model";
import type { JobDocument } from "@conveyor/read-model";
import { waitFor } from "@conveyor/testing";
import { describe, expect, it } from "vitest";

import { useServerPair } from "../support/server-pair.ts";
import { request, startGateway, submit } from "./gateway-fixture.ts";

const publishTimeoutMs = 1000;
/** Far above any honest answer: a request still open then has hung. */
const hangMs = publishTimeoutMs + 4000;

describe("when NATS stops", () => {
  const servers = useServerPair();

  it("answers submissions 503 instead of hanging, is not ready, and recovers with NATS", async () => {
    await using gw = await startGateway({
      natsUrl: servers.nats.url,
      mongoUrl: servers.mongo.url,
      publishTimeoutMs,
    });
    const before = await submit(gw, { type: "echo", payload: { message: "before" } });
    expect(before.status).toBe(202);
    // No projector runs here: the read model never has this job, only its events in EVENTS do.
    const beforeId = (before.body as { id: string }).id;
    const deadJob: JobDocument = {
      _id: "job-dead-before-outage",
      type: "echo",
      status: "dead",
      run: 1,
      attempt: 1,
      attempts: [{ run: 1, attempt: 1 }],
      reason: "attempts_exhausted",
      updatedAt: new Date(0).toISOString(),
    };
    await jobsCollection(gw.db).insertOne(deadJob);

    await servers.nats.stop();
    const response = await fetch(`${gw.baseUrl}/v1/jobs`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ type: "echo", payload: { message: "during" } }),
      signal: AbortSignal.timeout(hangMs),
    });
    expect(response.status).toBe(503);
    const refusal = (await response.json()) as { error: string; message: string };
    expect(refusal.error).toBe("unavailable");
    expect(refusal.message).toContain("NATS");
    // A type this gateway has not seen cannot be looked up: unavailable, not unknown, and at once.
    for (const path of ["/v1/jobs", "/v1/jobs/bulk"]) {
      const started = Date.now();
      const body =
        path === "/v1/jobs"
          ? { type: "not.seen.yet", payload: {} }
          : { jobs: [{ type: "not.seen.yet", payload: {} }] };
      const unseen = await request(`${gw.baseUrl}${path}`, {
        method: "POST",
        body: JSON.stringify(body),
      });
      expect(unseen.status, path).toBe(503);
      expect(unseen.body, path).toMatchObject({ error: "unavailable" });
      expect(Date.now() - started, path).toBeLessThan(publishTimeoutMs + 500);
    }

    const stats = await request(`${gw.baseUrl}/v1/stats`);
    expect(stats.status).toBe(503);
    // Whether the job exists cannot be told: not a 404, which would say it does not, and at
    // once, as NATS is known to be down.
    const readStarted = Date.now();
    const read = await request(`${gw.baseUrl}/v1/jobs/${beforeId}`);
    expect(read.status).toBe(503);
    expect(read.body).toMatchObject({ error: "unavailable" });
    expect(Date.now() - readStarted).toBeLessThan(publishTimeoutMs);
    const cancel = await request(`${gw.baseUrl}/v1/jobs/${beforeId}/cancel`, { method: "POST" });
    expect(cancel.status).toBe(503);
    const replay = await request(`${gw.baseUrl}/v1/dlq/${beforeId}/replay`, { method: "POST" });
    expect(replay.status).toBe(503);
    // A dead job is read from the read model alone, at once: its replay's new run, which EVENTS
    // could show, cannot be looked for while NATS is down.
    const deadStarted = Date.now();
    const dead = await request(`${gw.baseUrl}/v1/jobs/${deadJob._id}`);
    expect(dead.body).toMatchObject({ id: deadJob._id, status: "dead" });
    expect(Date.now() - deadStarted).toBeLessThan(publishTimeoutMs);
    const ready = await request(`${gw.baseUrl}/readyz`);
    expect(ready.status).toBe(503);
    expect(ready.body).toMatchObject({
      error: "not_ready",
      checks: { nats: { ok: false }, mongo: { ok: true } },
    });
    expect((await request(`${gw.baseUrl}/healthz`)).status).toBe(200);

    await servers.nats.restart();
    await waitFor(async () => (await request(`${gw.baseUrl}/readyz`)).status === 200, {
      message: "gateway ready again after NATS restarted",
    });
    expect((await submit(gw, { type: "echo", payload: { message: "after" } })).status).toBe(202);
  });

  it("answers 503 when JetStream cannot store the submission", async () => {
    await using gw = await startGateway({
      natsUrl: servers.nats.url,
      mongoUrl: servers.mongo.url,
      publishTimeoutMs,
    });
    await gw.jsm.streams.delete(StreamName.Jobs);
    const response = await fetch(`${gw.baseUrl}/v1/jobs`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ type: "echo", payload: { message: "no stream" } }),
      signal: AbortSignal.timeout(hangMs),
    });
    expect(response.status).toBe(503);
    expect(await response.json()).toMatchObject({ error: "unavailable" });
  });

  it("answers 503 after publishTimeoutMs when nothing acknowledges the submission", async () => {
    await using gw = await startGateway({
      natsUrl: servers.nats.url,
      mongoUrl: servers.mongo.url,
      publishTimeoutMs,
    });
    await gw.jsm.streams.delete(StreamName.Jobs);
    // A plain subscriber takes the submission and never answers, as a stalled JetStream would.
    const silent = gw.nc.subscribe("jobs.submit.>");
    try {
      const response = await fetch(`${gw.baseUrl}/v1/jobs`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ type: "echo", payload: { message: "no ack" } }),
        signal: AbortSignal.timeout(hangMs),
      });
      expect(response.status).toBe(503);
      const refusal = (await response.json()) as { error: string; message: string };
      expect(refusal.error).toBe("unavailable");
      expect(refusal.message).toMatch(/timeout/i);
      expect(silent.getReceived()).toBe(1);
      // The id the job was given, to retry with: it may have been stored all the same.
      const { id } = refusal as { id?: string };
      expect(id).toMatch(/^[0-9a-f-]{36}$/);
      for await (const sent of silent) {
        expect(sent.json<{ id: string }>().id).toBe(id);
        break;
      }
    } finally {
      silent.unsubscribe();
    }
  });
});

describe("when MongoDB stops", () => {
  const servers = useServerPair();

  it("stays ready (degraded) for intake, answers reads 503, and still accepts submissions", async () => {
    await using gw = await startGateway({
      natsUrl: servers.nats.url,
      mongoUrl: servers.mongo.url,
      readTimeoutMs: 1000,
      readyTimeoutMs: 500,
    });
    expect((await request(`${gw.baseUrl}/readyz`)).status).toBe(200);

    await servers.mongo.stop();
    // A readiness probe must not take every gateway out of service while intake works.
    const ready = await request(`${gw.baseUrl}/readyz`);
    expect(ready.status).toBe(200);
    expect(ready.body).toMatchObject({
      status: "degraded",
      checks: { nats: { ok: true }, mongo: { ok: false } },
    });
    expect(ready.body.message).toContain("mongo");

    const read = await fetch(`${gw.baseUrl}/v1/jobs/some-job`, {
      signal: AbortSignal.timeout(hangMs),
    });
    expect(read.status).toBe(503);
    expect(await read.json()).toMatchObject({ error: "unavailable" });

    // Intake does not depend on the read model: jobs are still accepted and stored.
    expect((await submit(gw, { type: "echo", payload: { message: "still" } })).status).toBe(202);
    expect((await request(`${gw.baseUrl}/healthz`)).status).toBe(200);
  });
});
