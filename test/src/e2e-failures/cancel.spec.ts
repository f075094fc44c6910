import { describe, expect, it } from "vitest";

import { startServiceStack } from "../e2e/service-stack.ts";
import { allReach, getJob, listJobs, submitAccepted, typesRegistered } from "./jobs-api.ts";
import { waitWhileRunning } from "../e2e/service-stack.ts";

/** Fewer handlers than jobs, so some jobs are running and the rest wait queued. */
const concurrency = 2;
const jobCount = 5;

async function cancel(gatewayUrl: string, id: string, reason: string): Promise<number> {
  const res = await fetch(`${gatewayUrl}/v1/jobs/${id}/cancel`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ reason }),
  });
  return res.status;
}

describe("cancellation across the four services", () => {
  it(
    "cancels running and queued jobs: every job ends cancelled once, none runs to the end",
    { timeout: 90_000 },
    async () => {
      await using stack = await startServiceStack({
        env: { WORKER_CONCURRENCY: String(concurrency) },
      });
      await typesRegistered(stack, ["sleep"]);

      const ids: string[] = [];
      for (let i = 0; i < jobCount; i++) {
        ids.push(await submitAccepted(stack, "sleep", { ms: 600_000 }));
      }
      // Wait until the worker holds as many as it may run; the others stay queued behind them.
      await waitWhileRunning(
        stack,
        async () =>
          (await listJobs(stack, "sleep")).size === jobCount &&
          [...(await listJobs(stack, "sleep")).values()].filter((j) => j.status === "running")
            .length === concurrency,
        { timeoutMs: 30_000, message: `${concurrency} sleep jobs did not start` },
      );
      const before = await listJobs(stack, "sleep");
      const running = ids.filter((id) => before.get(id)?.status === "running");
      const queued = ids.filter((id) => before.get(id)?.status === "queued");
      expect(running).toHaveLength(concurrency);
      expect(queued).toHaveLength(jobCount - concurrency);

      // Queued ones first: cancelling a running job frees a slot, and the worker would start the
      // next queued job if its cancel had not been sent yet.
      for (const id of [...queued, ...running]) {
        expect(await cancel(stack.gatewayUrl, id, "no longer needed")).toBe(202);
      }

      const after = await allReach(stack, "sleep", ids, "cancelled", 45_000);
      for (const id of ids) {
        const job = after.get(id)!;
        expect(job.reason).toBe("no longer needed");
        expect(job.attemptHistory.some((a) => a.outcome === "succeeded")).toBe(false);
      }
      // The queued ones never started a handler (a worker may have received one and skipped it);
      // the running ones started exactly once.
      for (const id of queued) {
        const started = (await getJob(stack, id))!.attemptHistory.filter(
          (a) => a.startedAt !== null,
        );
        expect(started).toEqual([]);
      }
      for (const id of running) {
        const started = (await getJob(stack, id))!.attemptHistory.filter(
          (a) => a.startedAt !== null,
        );
        // The worker's cancelled event ended the attempt it stopped, with its handler's run time.
        expect(started.map((a) => [a.outcome, typeof a.durationMs])).toEqual([
          ["cancelled", "number"],
        ]);
      }
      // A finished job cannot be cancelled again.
      expect(await cancel(stack.gatewayUrl, ids[0]!, "again")).toBe(409);
      expect(stack.deadServices()).toEqual([]);
    },
  );
});
