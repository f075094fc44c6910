import { connect } from "@nats-io/transport-node";
import { describe, expect, it } from "vitest";

import { Subject } from "@conveyor/contracts";

import { allReach, exitWithin, handlerStartCounts, submitAccepted } from "./jobs-api.ts";
import { startTwoWorkers } from "./two-workers.ts";

const jobCount = 200;
/** Long enough that a busy replica always has handlers running when it is told to stop. */
const sleepMs = 200;
const submitters = 4;
const shutdownGraceMs = 5000;
/** The worker's default `pullExpiresMs`: stop() first lets its open pull run out (docs/worker-sdk.md). */
const pullExpiresMs = 5000;
/** Process exit, connection drain and a loaded machine's scheduling. */
const exitMarginMs = 10_000;

interface StartedEvent {
  jobId: string;
  workerId: string;
}

describe("a worker stopped with SIGTERM under load", () => {
  it(
    "drains: exits 0 in time, finishes what it holds, and every job runs once and succeeds",
    { timeout: 120_000 },
    async () => {
      await using workers = await startTwoWorkers({
        env: { SHUTDOWN_GRACE_MS: String(shutdownGraceMs) },
      });
      const { stack } = workers;
      const replica = workers.process("worker-b");

      const nc = await connect({ servers: stack.natsUrl });
      try {
        const startsOnB = Promise.withResolvers<undefined>();
        const starts = nc.subscribe(Subject.event("*", "started"), {
          callback: (_err, msg) => {
            if (msg.json<StartedEvent>().workerId === "worker-b") startsOnB.resolve(undefined);
          },
        });

        const ids: string[] = [];
        let sigtermAt = 0;
        const stopB = async () => {
          await startsOnB.promise;
          sigtermAt = Date.now();
          workers.signal("worker-b", "SIGTERM");
        };
        let stopping: Promise<void> | undefined;
        let claimed = 0;
        const submitLoop = async () => {
          while (claimed < jobCount) {
            const n = claimed++;
            ids.push(await submitAccepted(stack, "sleep", { ms: sleepMs }));
            // In the middle of the load: a third submitted, the replica busy.
            if (n === Math.floor(jobCount / 3)) stopping = stopB();
          }
        };
        await Promise.all(Array.from({ length: submitters }, submitLoop));
        await stopping;
        expect(sigtermAt).toBeGreaterThan(0);

        const exit = await exitWithin(replica, shutdownGraceMs + pullExpiresMs + exitMarginMs);
        expect(exit, replica.output()).toBe(0);
        expect(replica.output()).toContain("worker stopped");

        const jobs = await allReach(stack, "sleep", ids, "succeeded", 60_000);
        starts.unsubscribe();

        // A drained replica runs what it holds to the end (nothing outlives the grace here), so
        // no job is handed back: every job ran its handler once, in one attempt.
        const started = await handlerStartCounts(nc);
        const runsOf = (worker: string) =>
          [...jobs.values()].flatMap((job) =>
            job.attemptHistory.filter((attempt) => attempt.workerId === worker),
          );
        for (const id of ids) {
          const job = jobs.get(id)!;
          expect(started.get(id), id).toBe(1);
          expect(job.attempts, id).toBe(1);
          expect(job.attemptHistory, id).toEqual([
            expect.objectContaining({ attempt: 1, outcome: "succeeded" }),
          ]);
        }
        const onB = runsOf("worker-b");
        expect(onB.length).toBeGreaterThan(0);
        expect(runsOf("worker-a").length).toBe(jobCount - onB.length);
        // It held running jobs when the signal came and finished them rather than dropping them.
        const lastOnB = Math.max(...onB.map((attempt) => Date.parse(attempt.finishedAt!)));
        expect(lastOnB).toBeGreaterThan(sigtermAt);

        expect(stack.deadServices(), stack.logs()).toEqual([]);
      } finally {
        await nc.close();
      }
    },
  );
});

describe("a worker whose running jobs outlast its grace period", () => {
  it(
    "hands them back when the grace ends; the other replica runs them to success as attempt 2",
    { timeout: 120_000 },
    async () => {
      const shortGraceMs = 500;
      // Longer than the grace and than the open pulls stop() waits for first (pullExpiresMs):
      // handlers are interrupted only once no pull is open, so the jobs must outlast both.
      const longSleepMs = 8000;
      const concurrency = 2;
      await using workers = await startTwoWorkers({
        env: { WORKER_CONCURRENCY: String(concurrency) },
        replicaEnv: { SHUTDOWN_GRACE_MS: String(shortGraceMs) },
      });
      const { stack } = workers;
      const replica = workers.process("worker-b");

      const nc = await connect({ servers: stack.natsUrl });
      try {
        const onB = new Set<string>();
        const startedOnB = Promise.withResolvers<undefined>();
        const starts = nc.subscribe(Subject.event("*", "started"), {
          callback: (_err, msg) => {
            const event = msg.json<StartedEvent>();
            if (event.workerId !== "worker-b") return;
            onB.add(event.jobId);
            startedOnB.resolve(undefined);
          },
        });
        // Each replica holds `concurrency` jobs: both are busy for the whole sleep.
        const ids: string[] = [];
        for (let i = 0; i < 2 * concurrency; i++) {
          ids.push(await submitAccepted(stack, "sleep", { ms: longSleepMs }));
        }
        await startedOnB.promise;
        workers.signal("worker-b", "SIGTERM");

        const exit = await exitWithin(replica, shortGraceMs + pullExpiresMs + exitMarginMs);
        expect(exit, replica.output()).toBe(0);
        expect(replica.output()).toContain("grace period over; returning unfinished jobs");

        const jobs = await allReach(stack, "sleep", ids, "succeeded", 60_000);
        starts.unsubscribe();
        const started = await handlerStartCounts(nc);
        expect(onB.size).toBeGreaterThan(0);
        for (const id of ids) {
          const job = jobs.get(id)!;
          if (!onB.has(id)) {
            // Never on the stopped replica: run once.
            expect(job.attemptHistory, id).toEqual([
              expect.objectContaining({ attempt: 1, workerId: "worker-a", outcome: "succeeded" }),
            ]);
            expect(started.get(id), id).toBe(1);
            continue;
          }
          // Interrupted, recorded as a failed attempt returned without delay, then run again.
          expect(job.attemptHistory, id).toEqual([
            expect.objectContaining({
              attempt: 1,
              workerId: "worker-b",
              outcome: "failed",
              retryDelayMs: 0,
            }),
            expect.objectContaining({ attempt: 2, workerId: "worker-a", outcome: "succeeded" }),
          ]);
          expect(job.attemptHistory[0]!.error?.name, id).toBe("WorkerStoppedError");
          expect(started.get(id), id).toBe(2);
        }
        expect(stack.deadServices(), stack.logs()).toEqual([]);
      } finally {
        await nc.close();
      }
    },
  );
});
