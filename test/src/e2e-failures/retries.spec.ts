import { describe, expect, it } from "vitest";

import {
  DeadLetter,
  StreamName,
  Subject,
  defaultRetryPolicy,
  retryDelayMs,
} from "@conveyor/contracts";
import type { RetryPolicy } from "@conveyor/contracts";

import { waitWhileRunning } from "../e2e/service-stack.ts";
import {
  allReach,
  handlerStartCounts,
  storedBodies,
  storedWorkItems,
  sharedServiceStack,
  submitAccepted,
} from "./jobs-api.ts";

/**
 * The reference worker has no knob for the retry policy, so `flaky` retries with the defaults:
 * 1 s after attempt 1, 2 s after attempt 2.
 */
const expectedDelaysMs = [1000, 2000];

describe("retries and dead letters end to end", () => {
  const shared = sharedServiceStack(["flaky"]);

  it(
    "a job failing twice succeeds on attempt 3, each retry waiting at least its recorded delay",
    { timeout: 60_000 },
    async () => {
      const { stack, nc } = shared;
      // What the worker registered is what it retries with: the defaults, 1 s and 2 s.
      const types = (await (await fetch(`${stack.gatewayUrl}/v1/job-types`)).json()) as {
        items: { type: string; retry: RetryPolicy }[];
      };
      const policy = types.items.find((t) => t.type === "flaky")!.retry;
      expect(policy).toEqual(defaultRetryPolicy);
      expect([1, 2].map((n) => retryDelayMs(policy, n))).toEqual(expectedDelaysMs);

      const id = await submitAccepted(stack, "flaky", { failTimes: 2 });
      const job = (await allReach(stack, "flaky", [id], "succeeded", 40_000)).get(id)!;

      expect(job.attempts).toBe(3);
      expect(job.attemptHistory.map((a) => [a.attempt, a.outcome])).toEqual([
        [1, "failed"],
        [2, "failed"],
        [3, "succeeded"],
      ]);
      expect(job.attemptHistory.map((a) => a.retryDelayMs)).toEqual([...expectedDelaysMs, null]);
      expect(job.attemptHistory[0]!.error?.message).toBe("planned failure 1 of 2");
      for (let n = 0; n < 2; n++) {
        const failed = job.attemptHistory[n]!;
        const next = job.attemptHistory[n + 1]!;
        const gapMs = Date.parse(next.startedAt!) - Date.parse(failed.finishedAt!);
        expect(gapMs, `gap after attempt ${n + 1}`).toBeGreaterThanOrEqual(failed.retryDelayMs!);
      }
      // Each attempt ran its handler once.
      expect((await handlerStartCounts(nc)).get(id)).toBe(3);
    },
  );

  it(
    "a job that always fails ends dead, its letter in DLQ with the last error, its work gone",
    { timeout: 60_000 },
    async () => {
      const { stack, nc, jsm } = shared;
      const id = await submitAccepted(stack, "flaky", { failTimes: 99 }, { maxAttempts: 2 });
      // Seen in WORK while it waits for its retry, so that "gone" below means something.
      await waitWhileRunning(
        stack,
        async () => (await storedWorkItems(jsm, "flaky")).includes(id),
        {
          timeoutMs: 20_000,
          intervalMs: 50,
          message: `the work item of ${id} never showed in WORK`,
        },
      );
      const job = (await allReach(stack, "flaky", [id], "dead", 40_000)).get(id)!;

      expect(job).toMatchObject({
        attempts: 2,
        reason: "attempts_exhausted",
        error: { message: "planned failure 2 of 99" },
      });
      expect(job.attemptHistory).toEqual([
        expect.objectContaining({
          attempt: 1,
          outcome: "failed",
          retryDelayMs: expectedDelaysMs[0],
        }),
        // The last attempt failed for good: no retry follows it.
        expect.objectContaining({
          attempt: 2,
          outcome: "failed",
          retryDelayMs: null,
        }),
      ]);
      // Its worker's dead event recorded how long the handler ran, as a failed event would have.
      expect(job.attemptHistory[1]!.durationMs).toBeTypeOf("number");
      expect(job.attemptHistory[1]!.workerId).toBeTypeOf("string");
      expect(job.attemptHistory[1]!.error?.message).toBe("planned failure 2 of 99");

      // One letter for the job, however many parties tried to dead-letter it.
      const letters = (await storedBodies(jsm, StreamName.Dlq, Subject.dlq("flaky")))
        .map((body) => DeadLetter.parse(body))
        .filter((letter) => letter.jobId === id);
      expect(letters).toHaveLength(1);
      const letter = letters[0]!;
      expect(letter).toMatchObject({
        type: "flaky",
        jobId: id,
        run: 1,
        reason: "attempts_exhausted",
        attempts: 2,
        error: { message: "planned failure 2 of 99" },
        workItem: { id, payload: { failTimes: 99 }, maxAttempts: 2 },
      });

      // The worker terms the work message only after storing the letter: it leaves WORK.
      await waitWhileRunning(
        stack,
        async () => !(await storedWorkItems(jsm, "flaky")).includes(id),
        {
          timeoutMs: 10_000,
          message: `the work item of ${id} is still in WORK`,
        },
      );

      expect((await handlerStartCounts(nc)).get(id)).toBe(2);

      const res = await fetch(`${stack.gatewayUrl}/v1/dlq/${id}`);
      expect(res.status).toBe(200);
      expect(await res.json()).toMatchObject({
        id,
        reason: "attempts_exhausted",
        attempts: 2,
        error: { message: "planned failure 2 of 99" },
        replayable: true,
      });
      expect(stack.deadServices(), stack.logs()).toEqual([]);
    },
  );
});
