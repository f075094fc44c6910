import { setTimeout as sleep } from "node:timers/promises";

import { Subject } from "@conveyor/contracts";
import type { WorkItem } from "@conveyor/contracts";
import { waitFor } from "@conveyor/testing";
import { JobCancelledError } from "@conveyor/worker-sdk";
import type { JobContext } from "@conveyor/worker-sdk";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";

import { System, uniqueType } from "./system.ts";

/** What a handler saw: which replica ran which job, and why its signal fired. */
interface Run {
  jobId: string;
  workerId: string;
  abortedWith: unknown;
  settled: boolean;
}

/** A handler that sleeps until its signal fires, recording what happened on which replica. */
function sleeper(runs: Run[]) {
  return async (job: { id: string }, ctx: JobContext): Promise<string> => {
    const run: Run = {
      jobId: job.id,
      workerId: ctx.workerId,
      abortedWith: undefined,
      settled: false,
    };
    runs.push(run);
    try {
      await sleep(60_000, undefined, { signal: ctx.signal });
      return "slept";
    } catch (err) {
      run.abortedWith = ctx.signal.reason;
      throw err;
    } finally {
      run.settled = true;
    }
  };
}

describe("cancelling jobs", () => {
  let system: System;

  beforeAll(async () => {
    system = await System.start();
  });

  afterEach(async () => {
    await system.stopWorkers();
  });

  afterAll(async () => {
    await system[Symbol.asyncDispose]();
  });

  it("cancels a queued job at once, and the worker that later gets it never runs it", async () => {
    const type = uniqueType("queued");
    await system.register({ type, retry: { maxAttempts: 3 } });
    const id = await system.submit(type, { n: 1 });
    await system.waitForJob(id, (job) => job.status === "queued", "job queued");

    const response = await system.post(`/v1/jobs/${id}/cancel`, { reason: "changed my mind" });
    expect(response.status).toBe(202);
    expect(response.body).toEqual({ id, status: "cancelling" });
    // No worker runs: the dispatcher's event alone makes the job cancelled.
    const cancelled = await system.waitForJob(id, (j) => j.status === "cancelled", "cancelled");
    expect(cancelled.reason).toBe("changed my mind");
    expect(cancelled.finishedAt).not.toBeNull();
    expect(await system.workLeft(type)).toMatchObject({ stored: 1 });

    const ran: string[] = [];
    await system.worker({
      handlers: {
        [type]: (job) => {
          ran.push(job.id);
          return "ran";
        },
      },
    });
    await waitFor(
      async () => {
        const left = await system.workLeft(type);
        return left.stored === 0 && left.unacknowledged === 0;
      },
      { message: "the cancelled job left the work queue" },
    );
    const after = await system.waitForJob(id, (j) => j.attempts === 1, "the worker's cancel");
    expect(ran).toEqual([]);
    expect(after).toMatchObject({ status: "cancelled", reason: "changed my mind", result: null });
    expect(after.attemptHistory).toEqual([]);
  });

  it("runs a job that uses a cancelled job's id again, once the duplicate windows have passed", async () => {
    const type = uniqueType("reused");
    await system.register({ type, retry: { maxAttempts: 3 } });
    const id = await system.submit(type, { n: 1 });
    await system.waitForJob(id, (job) => job.status === "queued", "job queued");
    expect((await system.post(`/v1/jobs/${id}/cancel`, { reason: "not this one" })).status).toBe(
      202,
    );
    await system.waitForJob(id, (j) => j.status === "cancelled", "cancelled");

    // The same id submitted again an hour later (the duplicate windows of `JOBS` and `WORK` past):
    // the dispatcher queues the same run of the same id, its submission stored after the cancel.
    // Published here as the dispatcher would, under a message id the window no longer holds.
    const reused: WorkItem = {
      id,
      type,
      payload: { n: 2 },
      priority: 5,
      maxAttempts: 3,
      timeoutMs: 30_000,
      submittedAt: new Date().toISOString(),
      run: 1,
    };
    await system.js.publish(Subject.work(type), JSON.stringify(reused), {
      msgID: `${id}:1:an-hour-later`,
    });
    expect(await system.workLeft(type)).toMatchObject({ stored: 2 });

    const ran: unknown[] = [];
    await system.worker({
      handlers: {
        [type]: (job) => {
          ran.push(job.payload);
          return "ran";
        },
      },
    });
    await waitFor(
      async () => {
        const left = await system.workLeft(type);
        return left.stored === 0 && left.unacknowledged === 0;
      },
      { message: "both work items left the work queue" },
    );
    // The cancelled job's work item is skipped, the new job's runs.
    expect(ran).toEqual([{ n: 2 }]);
  });

  it("aborts a running job on the replica that runs it and leaves the other replica's job alone", async () => {
    const type = uniqueType("sleep");
    const runs: Run[] = [];
    const handlers = { [type]: { handler: sleeper(runs), concurrency: 1, timeoutMs: 120_000 } };
    await system.worker({ workerId: "replica-a", handlers });
    await system.worker({ workerId: "replica-b", handlers });
    const first = await system.submit(type, { ms: 60_000 });
    const second = await system.submit(type, { ms: 60_000 });
    await waitFor(() => Promise.resolve(runs.length === 2), { message: "both jobs running" });
    // One handler slot per replica: each replica runs one of the two jobs.
    expect(new Set(runs.map((r) => r.workerId))).toEqual(new Set(["replica-a", "replica-b"]));
    await system.waitForJob(first, (j) => j.status === "running", "first running");

    expect((await system.post(`/v1/jobs/${first}/cancel`, {})).status).toBe(202);
    const cancelled = await system.waitForJob(first, (j) => j.status === "cancelled", "cancelled");
    expect(cancelled).toMatchObject({ attempts: 1, reason: "cancelled on request" });

    const [firstRun, secondRun] = [first, second].map((id) => runs.find((r) => r.jobId === id));
    expect(firstRun?.settled).toBe(true);
    expect(firstRun?.abortedWith).toBeInstanceOf(JobCancelledError);
    expect((firstRun?.abortedWith as JobCancelledError).reason).toBe("cancelled on request");
    // The other replica's job is untouched and still runs.
    expect(secondRun).toMatchObject({ settled: false, abortedWith: undefined });
    expect((await system.get(`/v1/jobs/${second}`)).body["status"]).toBe("running");
    await waitFor(async () => (await system.workLeft(type)).stored === 1, {
      message: "only the running job is left in the work queue",
    });

    expect((await system.post(`/v1/jobs/${second}/cancel`)).status).toBe(202);
    await system.waitForJob(second, (j) => j.status === "cancelled", "second cancelled");
    expect(secondRun?.abortedWith).toBeInstanceOf(JobCancelledError);
    await waitFor(
      async () => {
        const left = await system.workLeft(type);
        return left.stored === 0 && left.unacknowledged === 0;
      },
      { message: "both cancelled jobs left the work queue" },
    );
  });

  it("shows a failed job waiting for its retry cancelled at once, and never runs it again", async () => {
    const type = uniqueType("retrying");
    let calls = 0;
    await system.worker({
      handlers: {
        [type]: {
          handler: () => {
            calls++;
            throw new Error("still broken");
          },
          retry: { maxAttempts: 3, initialDelayMs: 3000 },
        },
      },
    });
    const id = await system.submit(type, null);
    await system.waitForJob(id, (j) => j.status === "failed", "first attempt failed");

    expect((await system.post(`/v1/jobs/${id}/cancel`, { reason: "give up" })).status).toBe(202);
    const cancelled = await system.waitForJob(id, (j) => j.status === "cancelled", "cancelled");
    expect(cancelled).toMatchObject({ attempts: 1, reason: "give up" });
    // The retry is delivered after its delay, recognised as cancelled and removed unrun.
    await waitFor(
      async () => {
        const left = await system.workLeft(type);
        return left.stored === 0 && left.unacknowledged === 0;
      },
      { timeoutMs: 15_000, message: "the cancelled retry left the work queue" },
    );
    const after = await system.waitForJob(id, (j) => j.attempts === 2, "the worker's cancel");
    expect(after.status).toBe("cancelled");
    expect(calls).toBe(1);
  });

  it("abandons a handler that ignores the cancel at its timeout, and still ends cancelled", async () => {
    const type = uniqueType("stubborn");
    const started: string[] = [];
    await system.worker({
      handlers: {
        [type]: {
          handler: async (job) => {
            started.push(job.id);
            await sleep(10_000); // ignores ctx.signal
            return "finished anyway";
          },
          timeoutMs: 1500,
        },
      },
    });
    const id = await system.submit(type, null);
    await system.waitForJob(id, (j) => j.status === "running", "running");
    const cancelledAt = Date.now();
    expect((await system.post(`/v1/jobs/${id}/cancel`)).status).toBe(202);
    const job = await system.waitForJob(id, (j) => j.status === "cancelled", "cancelled");
    expect(job.result).toBeNull();
    // Not before the timeout: until then the handler was still running. The job's own times say
    // so whatever the path's delays (the worker stamps the start and the cancelled end).
    expect(Date.now() - cancelledAt).toBeGreaterThanOrEqual(500);
    expect(
      Date.parse(job.finishedAt ?? "") - Date.parse(job.startedAt ?? ""),
    ).toBeGreaterThanOrEqual(1500 - 50);
    expect(started).toEqual([id]);
    expect(job.attemptHistory.map((a) => a.outcome)).toEqual(["cancelled"]);
  });

  it("refuses to cancel a finished job with 409, and an unknown one with 404", async () => {
    const type = uniqueType("quick");
    await system.worker({ handlers: { [type]: () => "done" } });
    const id = await system.submit(type, null);
    await system.waitForJob(id, (j) => j.status === "succeeded", "succeeded");

    const finished = await system.post(`/v1/jobs/${id}/cancel`, { reason: "too late" });
    expect(finished.status).toBe(409);
    expect(finished.body).toMatchObject({ error: "conflict" });
    expect(finished.body["message"]).toContain("succeeded");

    const unknown = await system.post(`/v1/jobs/no-such-job/cancel`);
    expect(unknown.status).toBe(404);
    expect(unknown.body).toMatchObject({ error: "not_found" });

    const badId = await system.post(`/v1/jobs/bad.id/cancel`);
    expect(badId).toMatchObject({ status: 400, body: { error: "invalid_parameter" } });
    const badBody = await system.post(`/v1/jobs/${id}/cancel`, { reason: "", extra: 1 });
    expect(badBody).toMatchObject({ status: 400, body: { error: "invalid_body" } });
    const paths = (badBody.body["issues"] as { path: string }[]).map((i) => i.path);
    expect(paths).toEqual(expect.arrayContaining(["reason", "extra"]));
  });

  it("refuses a second cancel of a cancelled job with 409", async () => {
    const type = uniqueType("twice");
    await system.register({ type });
    const id = await system.submit(type, null);
    await system.waitForJob(id, (j) => j.status === "queued", "queued");
    expect((await system.post(`/v1/jobs/${id}/cancel`)).status).toBe(202);
    await system.waitForJob(id, (j) => j.status === "cancelled", "cancelled");
    const again = await system.post(`/v1/jobs/${id}/cancel`);
    expect(again).toMatchObject({ status: 409, body: { error: "conflict" } });
  });

  it("answers 503 while NATS is down, like a submission", async () => {
    const type = uniqueType("outage");
    await system.register({ type });
    const id = await system.submit(type, null);
    await system.waitForJob(id, (j) => j.status === "queued", "queued");
    await system.nats.stop();
    try {
      const response = await waitFor(
        async () => {
          const r = await system.post(`/v1/jobs/${id}/cancel`);
          return r.status === 503 ? r : undefined;
        },
        { message: "503 while NATS is down" },
      );
      expect(response.body).toMatchObject({ error: "unavailable" });
    } finally {
      await system.nats.restart();
    }
  });
});
