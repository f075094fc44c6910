import { jetstream } from "@nats-io/jetstream";
import { MongoClient } from "mongodb";
import { headers as natsHeaders } from "@nats-io/transport-node";
import type { JetStreamManager } from "@nats-io/jetstream";
import { describe, expect, it } from "vitest";

import { JobClient } from "@conveyor/client";
import {
  CommandVerb,
  ConsumerName,
  Header,
  newJobId,
  StreamName,
  Subject,
} from "@conveyor/contracts";
import type { CancelCommandInput } from "@conveyor/contracts";

import { sharedServiceStack, storedBodies } from "../e2e-failures/jobs-api.ts";
import { waitWhileRunning } from "./service-stack.ts";
import type { ServiceStack } from "./service-stack.ts";

interface JobView {
  id: string;
  status: string;
  submittedAt: string | null;
  runAt: string | null;
  startedAt: string | null;
  attemptHistory: unknown[];
}

async function post(
  stack: ServiceStack,
  path: string,
  body: unknown,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${stack.gatewayUrl}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

async function getJob(stack: ServiceStack, id: string): Promise<JobView | undefined> {
  const res = await fetch(`${stack.gatewayUrl}/v1/jobs/${id}`);
  return res.status === 200 ? ((await res.json()) as JobView) : undefined;
}

async function reach(stack: ServiceStack, id: string, status: string): Promise<JobView> {
  let last: JobView | undefined;
  return waitWhileRunning(
    stack,
    async () => {
      last = await getJob(stack, id);
      return last?.status === status ? last : undefined;
    },
    {
      timeoutMs: 60_000,
      intervalMs: 100,
      get message() {
        return `job ${id} did not reach ${status}: ${JSON.stringify(last)}`;
      },
    },
  );
}

/** Whether `SCHEDULES` holds a work item for the job, waiting for its time. */
async function heldFor(jsm: JetStreamManager, id: string) {
  const info = await jsm.streams.info(StreamName.Schedules, {
    subjects_filter: Subject.scheduleAt(id),
  });
  return (info.state.subjects ?? {})[Subject.scheduleAt(id)] ?? 0;
}

async function scheduledInStats(stack: ServiceStack): Promise<number> {
  const res = await fetch(`${stack.gatewayUrl}/v1/stats`);
  return ((await res.json()) as { scheduled: number }).scheduled;
}

const delayMs = 3000;

describe("scheduled jobs", () => {
  const shared = sharedServiceStack(["echo"]);

  it(
    "hold a job submitted with delayMs or runAt over REST, NATS and in a bulk until its time, queued and showing runAt, then run it; a time already past runs at once",
    { timeout: 180_000 },
    async () => {
      const { stack, nc, jsm } = shared;

      const rest = await post(stack, "/v1/jobs", { type: "echo", payload: 1, delayMs });
      expect(rest.status, JSON.stringify(rest.body)).toBe(202);
      const restId = String(rest.body.id);

      // Given in another time zone: the job runs at the same instant, shown in UTC.
      const natsId = newJobId();
      const runAt = new Date(Date.now() + delayMs);
      const inBerlin = new Date(runAt.getTime() + 3_600_000).toISOString().replace("Z", "+01:00");
      await jetstream(nc).publish(
        Subject.submit("echo"),
        JSON.stringify({ id: natsId, payload: 2, runAt: inBerlin }),
      );

      const client = new JobClient(nc);
      const [bulk] = await client.submitBulk([{ type: "echo", payload: 3, delayMs }]);
      await client.close();
      expect(bulk?.ok).toBe(true);
      const bulkId = bulk?.ok === true ? (bulk.id ?? "") : "";

      const past = await post(stack, "/v1/jobs", {
        type: "echo",
        runAt: new Date(Date.now() - 60_000).toISOString(),
      });
      expect(past.status).toBe(202);

      // Queued, with the time each may run, and held until then (nothing has run).
      const queued = await Promise.all(
        [restId, natsId, bulkId].map(async (id) => reach(stack, id, "queued")),
      );
      const [restQueued, natsQueued, bulkQueued] = queued;
      for (const job of [restQueued, bulkQueued]) {
        expect(Date.parse(job!.runAt!) - Date.parse(job!.submittedAt!)).toBe(delayMs);
      }
      expect(natsQueued?.runAt).toBe(runAt.toISOString());
      for (const id of [restId, natsId, bulkId]) expect(await heldFor(jsm, id)).toBe(1);
      expect(await scheduledInStats(stack)).toBe(3);

      const pastDone = await reach(stack, String(past.body.id), "succeeded");
      expect(pastDone.runAt).toBeNull();

      const done = await Promise.all(
        [restId, natsId, bulkId].map(async (id) => reach(stack, id, "succeeded")),
      );
      for (const [i, job] of done.entries()) {
        const due = Date.parse(queued[i]!.runAt!);
        expect(Date.parse(job.startedAt!), JSON.stringify(job)).toBeGreaterThanOrEqual(due);
        expect(job.runAt).toBe(queued[i]!.runAt);
        expect(job.attemptHistory).toHaveLength(1);
      }
      for (const id of [restId, natsId, bulkId]) expect(await heldFor(jsm, id)).toBe(0);
      const schedules = await jsm.streams.info(StreamName.Schedules);
      expect(schedules.state.messages).toBe(0);
      expect(await scheduledInStats(stack)).toBe(0);
      expect(stack.deadServices(), stack.logs()).toEqual([]);
    },
  );

  it(
    "drop a cancelled job's held work item, so it never runs, and refuse a bad schedule naming the field",
    { timeout: 180_000 },
    async () => {
      const { stack, jsm } = shared;

      const later = await post(stack, "/v1/jobs", {
        type: "echo",
        runAt: new Date(Date.now() + 30 * 86_400_000).toISOString(),
      });
      expect(later.status).toBe(202);
      const id = String(later.body.id);
      await reach(stack, id, "queued");
      expect(await heldFor(jsm, id)).toBe(1);

      const cancel = await post(stack, `/v1/jobs/${id}/cancel`, { reason: "not needed" });
      expect(cancel.status, JSON.stringify(cancel.body)).toBe(202);
      const cancelled = await reach(stack, id, "cancelled");
      expect(cancelled.attemptHistory).toEqual([]);
      await waitWhileRunning(stack, async () => (await heldFor(jsm, id)) === 0, {
        timeoutMs: 10_000,
        message: "the cancelled job's work item is still held in SCHEDULES",
      });

      const refusals = [
        [{ type: "echo", runAt: "2026-12-07T10:00:00" }, "runAt"],
        [{ type: "echo", runAt: "2026-12-07T10:00:00Z", delayMs: 10 }, "delayMs"],
        [{ type: "echo", delayMs: 366 * 86_400_000 }, "delayMs"],
        [{ type: "echo", delayMs: -1 }, "delayMs"],
        [{ type: "echo", runAt: "9999-12-31T23:59:59Z" }, "runAt"],
      ] as const;
      for (const [body, field] of refusals) {
        const refused = await post(stack, "/v1/jobs", body);
        expect(refused.status, JSON.stringify(body)).toBe(400);
        expect(refused.body).toMatchObject({ error: "invalid_envelope" });
        expect(refused.body.issues).toEqual([expect.objectContaining({ path: field }) as unknown]);
      }
      expect(stack.deadServices(), stack.logs()).toEqual([]);
    },
  );

  it(
    "drop the held work item of a job whose cancel was carried out before the dispatcher took its submission",
    { timeout: 120_000 },
    async () => {
      const { stack, nc, jsm } = shared;
      const id = newJobId();
      const js = jetstream(nc);
      // The submission is stored while the dispatcher's intake is behind (paused here), and a
      // NATS producer's cancel of it is carried out before the intake takes it.
      const intakeUntil = new Date(Date.now() + 60_000);
      await jsm.consumers.pause(StreamName.Jobs, ConsumerName.DispatcherIntake, intakeUntil);
      const runAt = new Date(Date.now() + 30 * 86_400_000).toISOString();
      try {
        await js.publish(Subject.submit("echo"), JSON.stringify({ id, runAt }));
        const cancel: CancelCommandInput = {
          jobId: id,
          type: "echo",
          run: 1,
          reason: "changed my mind",
          requestedAt: new Date().toISOString(),
        };
        await js.publish(Subject.command(CommandVerb.Cancel, id), JSON.stringify(cancel));
        await reach(stack, id, "cancelled");
      } finally {
        await jsm.consumers.resume(StreamName.Jobs, ConsumerName.DispatcherIntake);
      }
      await waitWhileRunning(stack, async () => (await getJob(stack, id))?.runAt === runAt, {
        timeoutMs: 30_000,
        message: "the submission was not queued",
      });
      await waitWhileRunning(stack, async () => (await heldFor(jsm, id)) === 0, {
        timeoutMs: 10_000,
        message: "the work item of a job cancelled before its submission is held in SCHEDULES",
      });
      expect((await getJob(stack, id))?.status).toBe("cancelled");
      expect(stack.deadServices(), stack.logs()).toEqual([]);
    },
  );

  it(
    "hold a job that uses the id of a job cancelled before it was submitted",
    { timeout: 120_000 },
    async () => {
      const { stack, nc, jsm } = shared;
      const id = newJobId();
      const js = jetstream(nc);
      const cancel: CancelCommandInput = {
        jobId: id,
        type: "echo",
        run: 1,
        reason: "the earlier job",
        requestedAt: new Date().toISOString(),
      };
      await js.publish(Subject.command(CommandVerb.Cancel, id), JSON.stringify(cancel));
      await reach(stack, id, "cancelled");

      // Submitted after the cancel was stored: another job under the same id, which it leaves alone.
      const runAt = new Date(Date.now() + 30 * 86_400_000).toISOString();
      await js.publish(Subject.submit("echo"), JSON.stringify({ id, runAt }));
      await waitWhileRunning(
        stack,
        async () => {
          const intake = await jsm.consumers.info(StreamName.Jobs, ConsumerName.DispatcherIntake);
          return intake.num_pending === 0 && intake.num_ack_pending === 0;
        },
        { timeoutMs: 30_000, message: "the intake did not take the submission" },
      );
      expect(await heldFor(jsm, id)).toBe(1);
      await jsm.streams.purge(StreamName.Schedules, { filter: Subject.scheduleAt(id) });
      expect(stack.deadServices(), stack.logs()).toEqual([]);
    },
  );

  it(
    "pass a due message that is no readable work item on to its type's worker, which dead-letters it naming the job",
    { timeout: 120_000 },
    async () => {
      const { stack, nc, jsm } = shared;
      const id = newJobId();
      const js = jetstream(nc);
      // As an item of an older release might read: fields this one requires are missing.
      const headers = natsHeaders();
      headers.set(Header.JobId, id);
      await js.publish(Subject.scheduleDue("echo"), JSON.stringify({ id, type: "echo", run: 1 }), {
        headers,
      });
      // Nested too deep for the validator: read as no work item, not thrown on every delivery.
      const deep = `{"payload":${"[".repeat(5000)}1${"]".repeat(5000)}}`;
      await js.publish(Subject.scheduleDue("echo"), deep);

      const letter = await waitWhileRunning(
        stack,
        async () =>
          (await storedBodies(jsm, StreamName.Dlq, Subject.dlq("echo"))).find(
            (body) => (body as { jobId?: string }).jobId === id,
          ),
        { timeoutMs: 30_000, message: "the unreadable due message was not dead-lettered" },
      );
      expect(letter).toMatchObject({ type: "echo", run: 1 });
      await waitWhileRunning(
        stack,
        async () => {
          const consumer = await jsm.consumers.info(
            StreamName.Schedules,
            ConsumerName.DispatcherSchedules,
          );
          return consumer.num_pending + consumer.num_ack_pending === 0;
        },
        { timeoutMs: 10_000, message: "due messages are still waiting on the dispatcher" },
      );
      const consumer = await jsm.consumers.info(
        StreamName.Schedules,
        ConsumerName.DispatcherSchedules,
      );
      expect(consumer.num_redelivered).toBe(0);
      expect(stack.deadServices(), stack.logs()).toEqual([]);
    },
  );

  it(
    "read and cancel a held job that the read model and EVENTS no longer know (held longer than EVENTS keeps events, the read model rebuilt)",
    { timeout: 120_000 },
    async () => {
      const { stack, jsm } = shared;
      const runAt = new Date(Date.now() + 30 * 86_400_000).toISOString();
      const later = await post(stack, "/v1/jobs", { type: "echo", runAt });
      const id = String(later.body.id);
      await reach(stack, id, "queued");
      await jsm.streams.purge(StreamName.Events, { filter: `events.${id}.>` });
      const mongo = new MongoClient(stack.mongoUrl);
      try {
        await mongo.db(stack.mongoDb).collection<{ _id: string }>("jobs").deleteOne({ _id: id });
      } finally {
        await mongo.close();
      }
      // Read from its held work item: queued, at its time.
      expect(await getJob(stack, id)).toMatchObject({ id, status: "queued", runAt });
      expect(await heldFor(jsm, id)).toBe(1);

      const cancel = await post(stack, `/v1/jobs/${id}/cancel`, {});
      expect(cancel.status, JSON.stringify(cancel.body)).toBe(202);
      await waitWhileRunning(stack, async () => (await heldFor(jsm, id)) === 0, {
        timeoutMs: 10_000,
        message: "the held work item of the cancelled job is still in SCHEDULES",
      });
      expect(stack.deadServices(), stack.logs()).toEqual([]);
    },
  );
});
