import { JobClient } from "@conveyor/client";
import { Subject, newJobId } from "@conveyor/contracts";
import { jetstream } from "@nats-io/jetstream";
import { describe, expect, it } from "vitest";

import { callApi, sharedServiceStack, submitAccepted } from "../e2e-failures/jobs-api.ts";
import { nextEvent, serverSentEvents } from "../support/server-sent-events.ts";

describe("GET /v1/jobs/:id?waitMs= and GET /v1/jobs/:id/events", () => {
  const shared = sharedServiceStack(["sleep", "flaky", "json.analyze"]);

  it(
    "streams a running job's progress live, and its result when it ends",
    { timeout: 60_000 },
    async () => {
      const { stack } = shared;
      const documents = [{ a: 1 }, { a: 2 }, { a: 3 }, { a: 4 }];
      const id = await submitAccepted(stack, "json.analyze", {
        documents,
        delayPerDocumentMs: 400,
      });
      const response = await fetch(`${stack.gatewayUrl}/v1/jobs/${id}/events`);
      expect(response.status).toBe(200);
      const events = serverSentEvents(response);
      const statuses: string[] = [];
      const progress: number[] = [];
      let last: Record<string, unknown> = {};
      for (let event = await nextEvent(events); event?.name === "job";) {
        last = JSON.parse(event.data) as Record<string, unknown>;
        statuses.push(last.status as string);
        const done = (last.progress as { done?: number } | null)?.done;
        if (done !== undefined && progress.at(-1) !== done) progress.push(done);
        event = await nextEvent(events);
        if (event?.name === "end") {
          expect(JSON.parse(event.data)).toEqual({ id, status: "succeeded" });
          break;
        }
      }
      // Heard as the handler reported it, not only once it was over.
      expect(statuses).toContain("running");
      expect(progress.length).toBeGreaterThanOrEqual(2);
      expect(progress).toEqual([...progress].sort((a, b) => a - b));
      expect(last).toMatchObject({ id, status: "succeeded", progress: { done: 4, total: 4 } });
      expect(last.result).not.toBeNull();
      expect(await nextEvent(events)).toBeUndefined();
    },
  );

  it("answers once the job has finished, with its outcome", { timeout: 60_000 }, async () => {
    const { stack } = shared;
    const id = await submitAccepted(stack, "sleep", { ms: 1500 });
    const asked = Date.now();
    const answer = await callApi(stack, "GET", `/v1/jobs/${id}?waitMs=20000`);
    const waited = Date.now() - asked;
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ id, status: "succeeded" });
    expect(waited).toBeGreaterThanOrEqual(1000);
    expect(waited).toBeLessThan(15_000);

    // A finished job is answered at once.
    const again = Date.now();
    expect((await callApi(stack, "GET", `/v1/jobs/${id}?waitMs=20000`)).body).toMatchObject({
      status: "succeeded",
    });
    expect(Date.now() - again).toBeLessThan(2000);
  });

  it(
    "waits for a job published over NATS that the gateway does not know yet, and for its death",
    { timeout: 60_000 },
    async () => {
      const { stack } = shared;
      const id = newJobId();
      const waiting = callApi(stack, "GET", `/v1/jobs/${id}?waitMs=20000`);
      // Published once the request waits: the gateway knew nothing of it when asked.
      await new Promise((resolve) => setTimeout(resolve, 300));
      const submission = { id, type: "flaky", payload: { failTimes: 5 }, maxAttempts: 1 };
      await jetstream(shared.nc).publish(Subject.submit("flaky"), JSON.stringify(submission), {
        msgID: id,
      });
      const answer = await waiting;
      expect(answer.status).toBe(200);
      expect(answer.body).toMatchObject({ id, status: "dead" });
    },
  );

  it(
    "has a NATS counterpart: JobClient.waitFor resolves with the job's outcome",
    { timeout: 60_000 },
    async () => {
      const client = new JobClient(shared.nc);
      try {
        const id = newJobId();
        await client.submit({ id, type: "sleep", payload: { ms: 500 } });
        expect(await client.waitFor(id, { timeoutMs: 20_000 })).toMatchObject({
          kind: "succeeded",
          jobId: id,
          result: { sleptMs: 500 },
        });
      } finally {
        await client.close();
      }
    },
  );

  it(
    "has a NATS counterpart: JobClient.follow yields the job's events as they come, to its end",
    { timeout: 60_000 },
    async () => {
      const client = new JobClient(shared.nc);
      try {
        const id = newJobId();
        const documents = [{ a: 1 }, { a: 2 }, { a: 3 }, { a: 4 }];
        await client.submit({
          id,
          type: "json.analyze",
          payload: { documents, delayPerDocumentMs: 300 },
        });
        const kinds: string[] = [];
        const progress: number[] = [];
        for await (const event of client.follow(id, { timeoutMs: 30_000 })) {
          kinds.push(event.kind);
          if (event.kind === "progress") progress.push(event.done);
        }
        // Ended by itself at the outcome, each event once, progress as the handler reported it.
        expect(kinds.at(-1)).toBe("succeeded");
        expect(kinds.filter((kind) => kind === "succeeded")).toHaveLength(1);
        expect(progress.length).toBeGreaterThanOrEqual(2);
        expect(progress).toEqual([...new Set(progress)].sort((a, b) => a - b));

        // A finished job: its stored events, then the end, at once; a caller may stop early.
        const again = client.follow(id);
        const first = await again.next();
        expect(first.done).toBe(false);
        await again.return(undefined);
      } finally {
        await client.close();
      }
    },
  );

  it("answers the job as it is when the wait runs out", { timeout: 60_000 }, async () => {
    const { stack } = shared;
    const id = await submitAccepted(stack, "sleep", { ms: 10_000 });
    const asked = Date.now();
    const answer = await callApi(stack, "GET", `/v1/jobs/${id}?waitMs=800`);
    expect(Date.now() - asked).toBeLessThan(5000);
    expect(answer.status).toBe(200);
    expect(["queued", "running"]).toContain(answer.body.status);

    const unknown = newJobId();
    const missing = await callApi(stack, "GET", `/v1/jobs/${unknown}?waitMs=300`);
    expect(missing.status).toBe(404);
  });

  it("refuses a wait it cannot read, naming waitMs", { timeout: 30_000 }, async () => {
    const { stack } = shared;
    const id = newJobId();
    const queries = [
      "waitMs=soon",
      "waitMs=-1",
      "waitMs=30001",
      "waitMs=1.5",
      "waitMs=1e4",
      "wait=10",
    ];
    for (const query of queries) {
      const refused = await callApi(stack, "GET", `/v1/jobs/${id}?${query}`);
      expect(refused.status, query).toBe(400);
      const field = query.split("=")[0];
      expect(refused.body.issues, query).toEqual([
        expect.objectContaining({ path: field }) as unknown,
      ]);
    }
  });

  it(
    "answers a waiting request with the job as it is when the gateway stops",
    { timeout: 60_000 },
    async () => {
      const { stack } = shared;
      const id = await submitAccepted(stack, "sleep", { ms: 20_000 });
      const waiting = callApi(stack, "GET", `/v1/jobs/${id}?waitMs=30000`);
      await new Promise((resolve) => setTimeout(resolve, 500));
      const stopped = Date.now();
      const stopping = stack.stopService("gateway");
      const answer = await waiting;
      expect(Date.now() - stopped).toBeLessThan(5000);
      expect(answer.status).toBe(200);
      expect(["queued", "running"]).toContain(answer.body.status);
      await stopping;
      stack.startService("gateway");
    },
  );
});
