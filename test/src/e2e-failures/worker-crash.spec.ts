import { jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import type { NatsConnection } from "@nats-io/transport-node";
import { describe, expect, it } from "vitest";

import { DeadLetter, StreamName, Subject } from "@conveyor/contracts";

import { waitWhileRunning } from "../e2e/service-stack.ts";
import {
  allReach,
  handlerStartCounts,
  storedBodies,
  storedWorkItems,
  submitAccepted,
} from "./jobs-api.ts";
import { isWorkerId, otherWorker, startTwoWorkers } from "./two-workers.ts";
import type { WorkerId } from "./two-workers.ts";

/** Short leases, so a crashed worker's jobs come back within seconds. */
const ackWaitMs = 2000;
const sleepMs = 1500;

interface StartedEvent {
  jobId: string;
  attempt: number;
  workerId: string;
}

/** Resolves with the first `started` event published from now on. */
async function firstStart(nc: NatsConnection): Promise<StartedEvent & { workerId: WorkerId }> {
  const starts = nc.subscribe(Subject.event("*", "started"), { max: 1 });
  await nc.flush();
  for await (const msg of starts) {
    const event = msg.json<StartedEvent>();
    if (!isWorkerId(event.workerId)) throw new Error(`unexpected worker ${event.workerId}`);
    return { ...event, workerId: event.workerId };
  }
  throw new Error("the subscription ended without a started event");
}

describe("a worker killed mid-job (kill -9)", () => {
  it(
    "loses nothing: its jobs are redelivered to the other replica and succeed on attempt 2",
    { timeout: 120_000 },
    async () => {
      await using workers = await startTwoWorkers({ env: { ACK_WAIT_MS: String(ackWaitMs) } });
      const { stack } = workers;
      const nc = await connect({ servers: stack.natsUrl });
      try {
        // Enough jobs that both replicas hold some: each pulls at most its concurrency (4).
        const started = firstStart(nc);
        const ids: string[] = [];
        for (let i = 0; i < 8; i++) ids.push(await submitAccepted(stack, "sleep", { ms: sleepMs }));
        // Seen the moment it is published: its handler sleeps 1.5 s more.
        const first = await started;
        expect(first.attempt).toBe(1);
        const killed = first.workerId;
        const survivor = otherWorker(killed);
        workers.signal(killed, "SIGKILL");
        expect(await workers.process(killed).exited).toBe("SIGKILL");

        const jobs = await allReach(stack, "sleep", ids, "succeeded", 60_000);

        const victim = jobs.get(first.jobId)!;
        expect(victim.attempts).toBe(2);
        expect(victim.attemptHistory).toEqual([
          expect.objectContaining({
            attempt: 1,
            workerId: killed,
            finishedAt: null,
            outcome: null,
          }),
          expect.objectContaining({ attempt: 2, workerId: survivor, outcome: "succeeded" }),
        ]);
        expect(victim.attemptHistory[0]!.startedAt, "the killed attempt started").not.toBeNull();

        // Every job succeeded exactly once, on the survivor; the killed worker finished nothing.
        const starts = await handlerStartCounts(nc);
        for (const id of ids) {
          const job = jobs.get(id)!;
          const finished = job.attemptHistory.filter((a) => a.outcome !== null);
          expect(finished, id).toEqual([
            expect.objectContaining({ workerId: survivor, outcome: "succeeded" }),
          ]);
          for (const attempt of job.attemptHistory.filter((a) => a.workerId === killed)) {
            expect(attempt.finishedAt, id).toBeNull();
          }
          // Nothing ran twice on the survivor: at most the killed attempt came before its run.
          expect(job.attemptHistory.length, id).toBeLessThanOrEqual(2);
          expect(starts.get(id), id).toBe(job.attemptHistory.length);
        }
        expect(workers.process(survivor).running()).toBe(true);
        expect(stack.deadServices(), stack.logs()).toEqual([]);
      } finally {
        await nc.close();
      }
    },
  );

  it(
    "a job that crashed its worker on its last attempt is dead-lettered, not run again",
    { timeout: 120_000 },
    async () => {
      await using workers = await startTwoWorkers({ env: { ACK_WAIT_MS: String(ackWaitMs) } });
      const { stack } = workers;
      const nc = await connect({ servers: stack.natsUrl });
      try {
        const jsm = await jetstreamManager(nc);
        const started = firstStart(nc);
        const id = await submitAccepted(stack, "sleep", { ms: sleepMs }, { maxAttempts: 1 });
        const first = await started;
        expect(first.jobId).toBe(id);
        workers.signal(first.workerId, "SIGKILL");
        await workers.process(first.workerId).exited;

        // The redelivery exceeds maxAttempts: the other replica dead-letters it without running it.
        const job = (await allReach(stack, "sleep", [id], "dead", 60_000)).get(id)!;
        expect(job.reason).toBe("deliveries_exceeded");
        expect(job.attemptHistory[0]).toMatchObject({
          attempt: 1,
          workerId: first.workerId,
          finishedAt: null,
          outcome: null,
        });
        expect((await handlerStartCounts(nc)).get(id)).toBe(1);

        const letters = (await storedBodies(jsm, StreamName.Dlq, Subject.dlq("sleep")))
          .map((body) => DeadLetter.parse(body))
          .filter((letter) => letter.jobId === id);
        expect(letters).toHaveLength(1);
        expect(letters[0]).toMatchObject({
          reason: "deliveries_exceeded",
          attempts: 2,
          workerId: otherWorker(first.workerId),
          workItem: { id, maxAttempts: 1 },
        });
        await waitWhileRunning(
          stack,
          async () => !(await storedWorkItems(jsm, "sleep")).includes(id),
          {
            timeoutMs: 10_000,
            message: `the work item of ${id} is still in WORK`,
          },
        );
        expect(stack.deadServices(), stack.logs()).toEqual([]);
      } finally {
        await nc.close();
      }
    },
  );
});
