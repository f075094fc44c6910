import { afterEach, describe, expect, it } from "vitest";

import {
  callApi,
  getJob,
  handlerStartCounts,
  sharedServiceStack,
  submitAccepted,
} from "../e2e-failures/jobs-api.ts";
import { waitWhileRunning } from "./service-stack.ts";
import type { ServiceStack } from "./service-stack.ts";

/** The type's work consumer as `GET /v1/stats` shows it. */
async function consumerOf(stack: ServiceStack, type: string): Promise<Record<string, unknown>> {
  const { body } = await callApi(stack, "GET", "/v1/stats");
  const queues = body.workQueues as Record<string, { consumer: Record<string, unknown> }>;
  return queues[type]?.consumer ?? {};
}

async function succeeds(stack: ServiceStack, id: string, timeoutMs: number): Promise<void> {
  await waitWhileRunning(
    stack,
    async () => ((await getJob(stack, id))?.status === "succeeded" ? true : undefined),
    { timeoutMs, message: `job ${id} did not succeed` },
  );
}

describe("pausing a job type", () => {
  const shared = sharedServiceStack(["echo"]);
  // A test that fails while the type is paused leaves the others a running type.
  afterEach(async () => {
    await callApi(shared.stack, "POST", "/v1/job-types/echo/resume");
  });

  it(
    "holds its jobs queued while paused, keeps taking them, and runs them once resumed",
    { timeout: 120_000 },
    async () => {
      const { stack } = shared;
      const paused = await callApi(stack, "POST", "/v1/job-types/echo/pause");
      expect(paused.status, JSON.stringify(paused.body)).toBe(200);
      expect(paused.body).toEqual({ type: "echo", paused: true });
      expect(await consumerOf(stack, "echo")).toMatchObject({ paused: true });

      const id = await submitAccepted(stack, "echo", { n: 1 });
      // Every priority's lane is paused with the type.
      const urgent = await submitAccepted(stack, "echo", { n: 2 }, { priority: 9 });
      const lowest = await submitAccepted(stack, "echo", { n: 3 }, { priority: 0 });
      await new Promise((resolve) => setTimeout(resolve, 3000));
      for (const held of [id, urgent, lowest]) {
        expect((await getJob(stack, held))?.status).toBe("queued");
      }
      expect(await consumerOf(stack, "echo")).toMatchObject({
        numPending: 3,
        pendingByPriority: { "9": 1, "5": 1, "0": 1 },
      });

      // A worker started while the type is paused leaves it paused.
      await stack.stopService("worker");
      stack.startService("worker");
      await new Promise((resolve) => setTimeout(resolve, 3000));
      expect((await getJob(stack, id))?.status).toBe("queued");
      expect(await consumerOf(stack, "echo")).toMatchObject({ paused: true });

      const resumed = await callApi(stack, "POST", "/v1/job-types/echo/resume");
      expect(resumed.status).toBe(200);
      expect(resumed.body).toEqual({ type: "echo", paused: false });
      for (const held of [id, urgent, lowest]) await succeeds(stack, held, 20_000);
      expect(await consumerOf(stack, "echo")).toMatchObject({ paused: false });
      expect(stack.deadServices(), stack.logs()).toEqual([]);
    },
  );

  it("resumes by itself at the time a pause was given until", { timeout: 60_000 }, async () => {
    const { stack } = shared;
    const until = new Date(Date.now() + 5000).toISOString();
    const paused = await callApi(stack, "POST", "/v1/job-types/echo/pause", { until });
    expect(paused.body).toEqual({ type: "echo", paused: true, pausedUntil: until });
    expect(await consumerOf(stack, "echo")).toMatchObject({ paused: true, pausedUntil: until });

    const id = await submitAccepted(stack, "echo", { n: 2 });
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect((await getJob(stack, id))?.status).toBe("queued");
    await succeeds(stack, id, 20_000);
    expect(Date.now()).toBeGreaterThanOrEqual(Date.parse(until));
  });

  it(
    "skips a job cancelled while its type is paused once the type resumes",
    { timeout: 60_000 },
    async () => {
      const { stack } = shared;
      await callApi(stack, "POST", "/v1/job-types/echo/pause");
      const id = await submitAccepted(stack, "echo", { n: 3 });
      const cancelled = await callApi(stack, "POST", `/v1/jobs/${id}/cancel`);
      expect(cancelled.status).toBe(202);
      await waitWhileRunning(
        stack,
        async () => ((await getJob(stack, id))?.status === "cancelled" ? true : undefined),
        { timeoutMs: 10_000, message: `job ${id} was not cancelled` },
      );
      const after = await submitAccepted(stack, "echo", { n: 4 });
      await callApi(stack, "POST", "/v1/job-types/echo/resume");
      await succeeds(stack, after, 20_000);
      // The cancelled job was delivered before the one after it, and skipped.
      expect((await getJob(stack, id))?.status).toBe("cancelled");
      expect((await handlerStartCounts(shared.nc)).get(id) ?? 0).toBe(0);
    },
  );

  it("refuses a bad request naming what is wrong", { timeout: 60_000 }, async () => {
    const { stack } = shared;
    const refusals = [
      ["/v1/job-types/echo/pause", { until: "2020-01-01T00:00:00Z" }, 400, "until"],
      ["/v1/job-types/echo/pause", { until: "tomorrow" }, 400, "until"],
      ["/v1/job-types/echo/pause", { until: "9999-12-31T23:30:00-01:00" }, 400, "until"],
      ["/v1/job-types/echo/pause", { for: "1h" }, 400, "for"],
      ["/v1/job-types/Echo!/pause", undefined, 400, "type"],
      ["/v1/job-types/no.worker.runs.it/pause", undefined, 404, undefined],
      ["/v1/job-types/no.worker.runs.it/resume", undefined, 404, undefined],
    ] as const;
    for (const [path, body, status, field] of refusals) {
      const refused = await callApi(stack, "POST", path, body);
      expect(refused.status, `${path} ${JSON.stringify(body)}`).toBe(status);
      expect(refused.body.message).toEqual(expect.any(String));
      if (field !== undefined) {
        expect(refused.body.issues).toEqual([expect.objectContaining({ path: field }) as unknown]);
      }
    }
    expect(await consumerOf(stack, "echo")).toMatchObject({ paused: false });
  });
});
