import { Subject, newJobId } from "@conveyor/contracts";
import type { JobEvent } from "@conveyor/contracts";
import { jetstream } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { describe, expect, it } from "vitest";

import { recordingLogger } from "../support/recording-logger.ts";
import { nextEvent, serverSentEvents } from "../support/server-sent-events.ts";
import { useServerPair } from "../support/server-pair.ts";
import { request, startGateway } from "./gateway-fixture.ts";
import type { GatewayFixtureOptions } from "./gateway-fixture.ts";

const servers = useServerPair();

function gateway(options: Partial<GatewayFixtureOptions> = {}) {
  return startGateway({ natsUrl: servers.nats.url, mongoUrl: servers.mongo.url, ...options });
}

/** Stores one of the job's events in `EVENTS`, as the dispatcher and workers do. */
async function store(nc: NatsConnection, event: JobEvent): Promise<void> {
  await jetstream(nc).publish(Subject.event(event.jobId, event.kind), JSON.stringify(event));
}

function queued(jobId: string): JobEvent {
  return {
    kind: "queued",
    jobId,
    type: "echo",
    run: 1,
    attempt: 0,
    at: new Date().toISOString(),
    payload: { message: "hi" },
    priority: 5,
    maxAttempts: 3,
    submittedAt: new Date().toISOString(),
    source: "rest",
  };
}

function attemptEvent(jobId: string) {
  return { jobId, type: "echo", run: 1, attempt: 1, at: new Date().toISOString() };
}

function succeeded(jobId: string): JobEvent {
  return {
    ...attemptEvent(jobId),
    kind: "succeeded",
    result: { echoed: "hi" },
    durationMs: 12,
    workerId: "w-1",
  };
}

/** Opens the job's event stream. */
function openStream(baseUrl: string, id: string, signal?: AbortSignal) {
  return fetch(`${baseUrl}/v1/jobs/${id}/events`, { signal: signal ?? null });
}

/** The `job` event's data as a job view. */
function jobOf(event: { name: string; data: string } | undefined): Record<string, unknown> {
  expect(event?.name).toBe("job");
  return JSON.parse(event?.data ?? "{}") as Record<string, unknown>;
}

describe("GET /v1/jobs/:id/events", () => {
  it("sends the job, then each change as it happens, and ends once the job has finished", async () => {
    await using gw = await gateway();
    const id = newJobId();
    await store(gw.nc, queued(id));
    const response = await openStream(gw.baseUrl, id);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toMatch(/^text\/event-stream/);
    const events = serverSentEvents(response);
    expect(jobOf(await nextEvent(events))).toMatchObject({ id, status: "queued", attempts: 0 });

    await store(gw.nc, { ...attemptEvent(id), kind: "started", workerId: "w-1" });
    expect(jobOf(await nextEvent(events))).toMatchObject({ status: "running", attempts: 1 });

    for (const done of [1, 2]) {
      await store(gw.nc, {
        ...attemptEvent(id),
        kind: "progress",
        done,
        total: 3,
        message: `step ${String(done)}`,
        seq: done,
      });
      expect(jobOf(await nextEvent(events))).toMatchObject({
        status: "running",
        progress: { done, total: 3, message: `step ${String(done)}` },
      });
    }

    await store(gw.nc, succeeded(id));
    expect(jobOf(await nextEvent(events))).toMatchObject({
      status: "succeeded",
      result: { echoed: "hi" },
    });
    const end = await nextEvent(events);
    expect(end?.name).toBe("end");
    expect(JSON.parse(end?.data ?? "{}")).toEqual({ id, status: "succeeded" });
    expect(await nextEvent(events)).toBeUndefined();
  });

  it("sends a finished job and its end at once", async () => {
    await using gw = await gateway();
    const id = newJobId();
    await store(gw.nc, queued(id));
    await store(gw.nc, succeeded(id));
    const events = serverSentEvents(await openStream(gw.baseUrl, id));
    expect(jobOf(await nextEvent(events))).toMatchObject({ id, status: "succeeded" });
    expect((await nextEvent(events))?.name).toBe("end");
    expect(await nextEvent(events)).toBeUndefined();
  });

  it("waits for a job not known yet, as one accepted a moment before", async () => {
    await using gw = await gateway();
    const id = newJobId();
    const leaving = new AbortController();
    const opening = openStream(gw.baseUrl, id, leaving.signal);
    await new Promise((resolve) => setTimeout(resolve, 300));
    await store(gw.nc, queued(id));
    const response = await opening;
    expect(response.status).toBe(200);
    expect(jobOf(await nextEvent(serverSentEvents(response)))).toMatchObject({
      id,
      status: "queued",
    });
    leaving.abort();
  });

  it(
    "answers 404 for a job it does not know and 400 naming a bad id or parameter",
    {
      timeout: 30_000,
    },
    async () => {
      await using gw = await gateway();
      const asked = Date.now();
      const unknown = await request(`${gw.baseUrl}/v1/jobs/${newJobId()}/events`);
      expect(unknown.status).toBe(404);
      expect(unknown.body).toMatchObject({ error: "not_found" });
      // Waited for as a job accepted a moment before would be.
      expect(Date.now() - asked).toBeGreaterThanOrEqual(9000);

      const id = newJobId();
      const withParameter = await request(`${gw.baseUrl}/v1/jobs/${id}/events?waitMs=100`);
      expect(withParameter.status).toBe(400);
      expect(withParameter.body.issues).toEqual([expect.objectContaining({ path: "waitMs" })]);

      const badId = await request(`${gw.baseUrl}/v1/jobs/${"x".repeat(300)}/events`);
      expect(badId.status).toBe(400);
      expect(badId.body.issues).toEqual([expect.objectContaining({ path: "id" })]);
    },
  );

  it("ends without an end when its time runs out, for the client to reconnect", async () => {
    await using gw = await gateway({ jobStreamMaxMs: 500 });
    const id = newJobId();
    await store(gw.nc, queued(id));
    const opened = Date.now();
    const events = serverSentEvents(await openStream(gw.baseUrl, id));
    expect(jobOf(await nextEvent(events))).toMatchObject({ status: "queued" });
    expect(await nextEvent(events)).toBeUndefined();
    expect(Date.now() - opened).toBeLessThan(5000);
  });

  it("ends its streams without an end when the gateway stops", async () => {
    const stopping = new AbortController();
    await using gw = await gateway({ stopping: stopping.signal });
    const id = newJobId();
    await store(gw.nc, queued(id));
    const events = serverSentEvents(await openStream(gw.baseUrl, id));
    expect(jobOf(await nextEvent(events))).toMatchObject({ status: "queued" });
    stopping.abort();
    expect(await nextEvent(events, 3000)).toBeUndefined();
    // Nor does it open new ones: the client is to go to another replica.
    const refused = await request(`${gw.baseUrl}/v1/jobs/${id}/events`);
    expect(refused.status).toBe(503);
  });

  it("counts its streams against maxJobWaits, freeing one when its client leaves, quietly", async () => {
    const { logger, warnings } = recordingLogger("gateway");
    await using gw = await gateway({ maxJobWaits: 1, logger });
    const id = newJobId();
    await store(gw.nc, queued(id));
    const leaving = new AbortController();
    const first = await openStream(gw.baseUrl, id, leaving.signal);
    expect(first.status).toBe(200);
    const second = await request(`${gw.baseUrl}/v1/jobs/${id}/events`);
    expect(second.status).toBe(503);
    expect(second.body.message).toContain("follows as many jobs as it may");

    leaving.abort();
    await expect
      .poll(
        async () => {
          const again = await openStream(gw.baseUrl, id);
          await again.body?.cancel();
          return again.status;
        },
        { timeout: 5000, interval: 100 },
      )
      .toBe(200);
    expect(warnings("response error")).toEqual([]);
  });

  it("holds requests arriving together to maxJobWaits, and frees a slot when a stream ends", async () => {
    await using gw = await gateway({ maxJobWaits: 2, jobStreamMaxMs: 1000 });
    const id = newJobId();
    await store(gw.nc, queued(id));
    const leaving = new AbortController();
    const answers = await Promise.all(
      Array.from({ length: 6 }, () => openStream(gw.baseUrl, id, leaving.signal)),
    );
    expect(answers.filter((answer) => answer.status === 200)).toHaveLength(2);
    expect(answers.filter((answer) => answer.status === 503)).toHaveLength(4);
    // The two streams run out after a second; their slots come back with them.
    await expect
      .poll(async () => (await openStream(gw.baseUrl, id, leaving.signal)).status, {
        timeout: 10_000,
        interval: 200,
      })
      .toBe(200);
    leaving.abort();
  });
});
