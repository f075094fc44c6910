import { jetstream } from "@nats-io/jetstream";
import { headers as natsHeaders } from "@nats-io/transport-node";
import { describe, expect, it } from "vitest";

import { Header, KvBucket, StreamName, Subject } from "@conveyor/contracts";
import { ensureTopology } from "@conveyor/topology";
import { Kvm } from "@nats-io/kv";

import { callApi, sharedServiceStack, storedBodies } from "../e2e-failures/jobs-api.ts";
import type { SharedStack } from "../e2e-failures/jobs-api.ts";
import { waitWhileRunning } from "./service-stack.ts";
import type { ServiceStack } from "./service-stack.ts";

interface JobView {
  id: string;
  status: string;
  batchId: string | null;
  payload: unknown;
  source: string | null;
}

const call = callApi;

async function runsOf(stack: ServiceStack, name: string): Promise<JobView[]> {
  const { body } = await call(stack, "GET", `/v1/jobs?batchId=${name}&limit=500`);
  return (body as unknown as { items: JobView[] }).items;
}

/** Publishes a schedule ticking every second on `schedule.cron.<subjectName>`, as a NATS client may. */
async function publishOverNats(
  shared: SharedStack,
  subjectName: string,
  body: { name: string; job: Record<string, unknown> },
): Promise<void> {
  const headers = natsHeaders();
  headers.set(Header.Schedule, "@every 1s");
  headers.set(Header.ScheduleTarget, Subject.recurringTick(subjectName));
  const schedule = { ...body, every: "1s", source: "nats", updatedAt: new Date().toISOString() };
  await jetstream(shared.nc).publish(Subject.recurring(subjectName), JSON.stringify(schedule), {
    headers,
  });
}

/** The rejection recorded for a tick of `schedule.cron.<subjectName>`, once there is one. */
async function tickRejection(shared: SharedStack, subjectName: string): Promise<unknown> {
  return waitWhileRunning(
    shared.stack,
    async () =>
      (await storedBodies(shared.jsm, StreamName.Events, "events.*.rejected")).find(
        (event) => (event as { subject?: string }).subject === Subject.recurringTick(subjectName),
      ),
    { timeoutMs: 15_000, message: `no tick of ${subjectName} was recorded as a rejection` },
  );
}

describe("recurring schedules", () => {
  const shared = sharedServiceStack(["echo"]);

  it(
    "submit their job at every tick, as runs listed by the schedule's name, until deleted",
    { timeout: 120_000 },
    async () => {
      const { stack } = shared;
      const stored = await call(stack, "PUT", "/v1/schedules/heartbeat", {
        every: "1s",
        job: { type: "echo", payload: { beat: true }, maxAttempts: 2 },
      });
      expect(stored.status, JSON.stringify(stored.body)).toBe(200);
      expect(stored.body).toMatchObject({ name: "heartbeat", every: "1s", source: "rest" });

      // A recurring schedule is no scheduled job.
      expect((await call(stack, "GET", "/v1/stats")).body).toMatchObject({ scheduled: 0 });
      const listed = await call(stack, "GET", "/v1/schedules");
      expect(listed.body).toMatchObject({ items: [{ name: "heartbeat", every: "1s" }] });
      expect((await call(stack, "GET", "/v1/schedules/heartbeat")).body).toMatchObject({
        job: { type: "echo", payload: { beat: true }, maxAttempts: 2 },
      });

      const runs = await waitWhileRunning(
        stack,
        async () => {
          const jobs = await runsOf(stack, "heartbeat");
          return jobs.filter((job) => job.status === "succeeded").length >= 3 ? jobs : undefined;
        },
        { timeoutMs: 30_000, message: "the schedule did not submit three jobs that succeeded" },
      );
      for (const job of runs) {
        expect(job.id).toMatch(/^heartbeat-\d{13}$/);
        expect(job).toMatchObject({
          batchId: "heartbeat",
          payload: { beat: true },
          source: "rest",
        });
      }
      // Each tick one job, never a tick's job twice.
      expect(new Set(runs.map((job) => job.id)).size).toBe(runs.length);

      expect((await call(stack, "DELETE", "/v1/schedules/heartbeat")).status).toBe(204);
      expect((await call(stack, "GET", "/v1/schedules/heartbeat")).status).toBe(404);
      expect((await call(stack, "DELETE", "/v1/schedules/heartbeat")).status).toBe(404);
      // A tick already made may still submit its job; after that, nothing more.
      await new Promise((resolve) => setTimeout(resolve, 1500));
      const settled = (await runsOf(stack, "heartbeat")).length;
      await new Promise((resolve) => setTimeout(resolve, 3000));
      expect((await runsOf(stack, "heartbeat")).length).toBe(settled);
      expect(stack.deadServices(), stack.logs()).toEqual([]);
    },
  );

  it(
    "refuse a schedule nats-server cannot read, a bad name or job, naming the field; record a tick whose job is refused",
    { timeout: 120_000 },
    async () => {
      const { stack } = shared;
      const refusals = [
        ["bad", { cron: "not a cron", job: { type: "echo" } }, 400, "cron"],
        ["bad", { every: "soon", job: { type: "echo" } }, 400, "every"],
        ["bad", { job: { type: "echo" } }, 400, "cron"],
        ["bad", { cron: "@hourly", every: "1m", job: { type: "echo" } }, 400, "cron"],
        [
          "bad",
          { cron: "@hourly", job: { type: "echo", runAt: "2027-01-01T00:00:00Z" } },
          400,
          "job.runAt",
        ],
        ["bad", { cron: "@hourly", job: { type: "echo", priority: 12 } }, 400, "job.priority"],
        ["bad", { cron: "@hourly", job: { type: "no.such.type" } }, 422, "job.type"],
        ["bad.name", { cron: "@hourly", job: { type: "echo" } }, 400, "name"],
        ["bad", { cron: "0 0 2 * * *\n", job: { type: "echo" } }, 400, "cron"],
        ["bad", { cron: "@at 2020-01-01T00:00:00Z", job: { type: "echo" } }, 400, "cron"],
        [
          "bad",
          `{"every":"1m","job":{"type":"echo","payload":${"[".repeat(5000)}1${"]".repeat(5000)}}}`,
          400,
          "job.payload",
        ],
      ] as const;
      for (const [name, body, status, field] of refusals) {
        const refused = await call(stack, "PUT", `/v1/schedules/${name}`, body);
        expect(refused.status, typeof body === "string" ? "deep" : JSON.stringify(body)).toBe(
          status,
        );
        expect(refused.body.issues).toEqual([expect.objectContaining({ path: field }) as unknown]);
      }
      expect((await call(stack, "GET", "/v1/schedules")).body).toMatchObject({ items: [] });

      // A schedule published over NATS whose job no worker runs: each tick is a rejection.
      await publishOverNats(shared, "orphan", {
        name: "orphan",
        job: { type: "no.worker.runs.it" },
      });
      const rejection = await tickRejection(shared, "orphan");
      expect(rejection).toMatchObject({ reason: "unknown_type" });
      expect((await call(stack, "DELETE", "/v1/schedules/orphan")).status).toBe(204);
      expect(stack.deadServices(), stack.logs()).toEqual([]);
    },
  );

  it(
    "keep one tick waiting while the dispatcher is away, and drop it with the schedule",
    { timeout: 120_000 },
    async () => {
      const { stack, jsm } = shared;
      const ticksWaiting = async (name: string) => {
        const info = await jsm.streams.info(StreamName.Schedules, {
          subjects_filter: Subject.recurringTick(name),
        });
        return info.state.subjects?.[Subject.recurringTick(name)] ?? 0;
      };
      await stack.stopService("dispatcher");
      try {
        const stored = await call(stack, "PUT", "/v1/schedules/while-away", {
          every: "1s",
          job: { type: "echo" },
        });
        expect(stored.status).toBe(200);
        await new Promise((resolve) => setTimeout(resolve, 4500));
        // Four times missed, one run owed: not a burst of every missed time on its return.
        expect(await ticksWaiting("while-away")).toBe(1);
        expect((await call(stack, "DELETE", "/v1/schedules/while-away")).status).toBe(204);
        expect(await ticksWaiting("while-away")).toBe(0);
      } finally {
        stack.startService("dispatcher");
      }
      await new Promise((resolve) => setTimeout(resolve, 3000));
      expect(await runsOf(stack, "while-away")).toEqual([]);
      expect(stack.deadServices(), stack.logs()).toEqual([]);
    },
  );

  it(
    "leave a schedule stored again unchanged as it is, so that storing it often does not hold its runs off",
    { timeout: 120_000 },
    async () => {
      const { stack } = shared;
      const body = { every: "3s", job: { type: "echo", payload: "again" } };
      const first = await call(stack, "PUT", "/v1/schedules/reapplied", body);
      for (let i = 0; i < 8; i++) {
        await new Promise((resolve) => setTimeout(resolve, 1000));
        const again = await call(stack, "PUT", "/v1/schedules/reapplied", body);
        expect(again.body.updatedAt).toBe(first.body.updatedAt);
      }
      const runs = await waitWhileRunning(
        stack,
        async () => {
          const jobs = await runsOf(stack, "reapplied");
          return jobs.length >= 2 ? jobs : undefined;
        },
        { timeoutMs: 10_000, message: "a schedule stored again and again did not run" },
      );
      expect(runs.length).toBeGreaterThanOrEqual(2);
      expect((await call(stack, "DELETE", "/v1/schedules/reapplied")).status).toBe(204);
    },
  );

  it(
    "show a schedule's latest run and next time once it has ticked, and not a replaced schedule's as its own",
    { timeout: 120_000 },
    async () => {
      const { stack } = shared;
      const stored = await call(stack, "PUT", "/v1/schedules/watched", {
        every: "1s",
        job: { type: "echo" },
      });
      expect(stored.status).toBe(200);
      expect(stored.body).not.toHaveProperty("lastRunAt");

      const ran = await waitWhileRunning(
        stack,
        async () => {
          const { body } = await call(stack, "GET", "/v1/schedules/watched");
          return typeof body.lastRunAt === "string" ? body : undefined;
        },
        { timeoutMs: 15_000, message: "the schedule's run was not shown" },
      );
      const lastRunAt = Date.parse(String(ran.lastRunAt));
      expect(ran.lastJobId).toBe(`watched-${String(lastRunAt)}`);
      const nextRunAt = Date.parse(String(ran.nextRunAt));
      expect(nextRunAt).toBeGreaterThan(lastRunAt);
      expect(nextRunAt).toBeLessThanOrEqual(lastRunAt + 2000);
      const job = await waitWhileRunning(
        stack,
        async () => {
          const found = await call(stack, "GET", `/v1/jobs/${String(ran.lastJobId)}`);
          return found.status === 200 ? found.body : undefined;
        },
        { timeoutMs: 15_000, message: "the run's job was not found" },
      );
      expect(job).toMatchObject({ batchId: "watched" });
      const listed = await call(stack, "GET", "/v1/schedules");
      expect(listed.body).toMatchObject({
        items: [{ name: "watched", lastRunAt: expect.any(String) as unknown }],
      });

      const replaced = await call(stack, "PUT", "/v1/schedules/watched", {
        cron: "@yearly",
        job: { type: "echo" },
      });
      expect(replaced.body).not.toHaveProperty("lastRunAt");
      // Nor once a tick of the schedule it replaced, in flight, has been submitted.
      await new Promise((resolve) => setTimeout(resolve, 2500));
      const shown = await call(stack, "GET", "/v1/schedules/watched");
      expect(shown.body).toMatchObject({ cron: "@yearly" });
      expect(shown.body).not.toHaveProperty("lastRunAt");
      expect((await call(stack, "DELETE", "/v1/schedules/watched")).status).toBe(204);
      expect(stack.deadServices(), stack.logs()).toEqual([]);
    },
  );

  it(
    "answer schedules without their runs while the runs cannot be read, and leave no record for a name never stored",
    { timeout: 120_000 },
    async () => {
      const { stack, jsm } = shared;
      expect((await call(stack, "DELETE", "/v1/schedules/never-stored")).status).toBe(404);
      const kv = await new Kvm(shared.nc).open(KvBucket.ScheduleRuns);
      expect(await kv.get("never-stored")).toBeNull();

      await jsm.streams.delete(`KV_${KvBucket.ScheduleRuns}`);
      try {
        const body = { cron: "@yearly", job: { type: "echo" } };
        const stored = await call(stack, "PUT", "/v1/schedules/runs-away", body);
        expect(stored.status).toBe(200);
        expect(stored.body).toMatchObject({ name: "runs-away", cron: "@yearly" });
        expect((await call(stack, "GET", "/v1/schedules/runs-away")).status).toBe(200);
        expect((await call(stack, "GET", "/v1/schedules")).body).toMatchObject({
          items: [{ name: "runs-away" }],
        });
        expect((await call(stack, "DELETE", "/v1/schedules/runs-away")).status).toBe(204);
      } finally {
        await ensureTopology(jsm);
      }
      expect(stack.deadServices(), stack.logs()).toEqual([]);
    },
  );

  it(
    "refuse a tick of a schedule whose body names another one, and leave it unlisted",
    { timeout: 60_000 },
    async () => {
      const { stack } = shared;
      await publishOverNats(shared, "impostor", { name: "victim", job: { type: "echo" } });
      const rejection = await tickRejection(shared, "impostor");
      expect(rejection).toMatchObject({ reason: "invalid_schedule" });
      expect(await runsOf(stack, "victim")).toEqual([]);
      expect((await call(stack, "GET", "/v1/schedules")).body).toMatchObject({ items: [] });
      expect((await call(stack, "DELETE", "/v1/schedules/impostor")).status).toBe(204);
    },
  );

  it(
    "list a page at a time, by name, each page's cursor leading to the next",
    { timeout: 60_000 },
    async () => {
      const { stack } = shared;
      const names = ["paged-a", "paged-b", "paged-c"];
      for (const name of names) {
        const stored = await call(stack, "PUT", `/v1/schedules/${name}`, {
          cron: "@yearly",
          job: { type: "echo" },
        });
        expect(stored.status, JSON.stringify(stored.body)).toBe(200);
      }
      try {
        // From just before the names, whatever other schedules a failed test left behind.
        const before = Buffer.from(JSON.stringify(["schedules", "paged-"])).toString("base64url");
        const first = await call(stack, "GET", `/v1/schedules?limit=2&cursor=${before}`);
        expect(first.status).toBe(200);
        const firstItems = first.body.items as { name: string }[];
        expect(firstItems.map((s) => s.name)).toEqual(["paged-a", "paged-b"]);
        expect(typeof first.body.nextCursor).toBe("string");
        const second = await call(
          stack,
          "GET",
          `/v1/schedules?limit=2&cursor=${String(first.body.nextCursor)}`,
        );
        expect((second.body.items as { name: string }[]).map((s) => s.name)).toEqual(["paged-c"]);
        expect(second.body.nextCursor).toBeNull();

        // A cursor of another list, one made up, a bad limit, an unknown parameter: 400 naming it.
        const jobsCursor = (await call(stack, "GET", "/v1/jobs?limit=1")).body.nextCursor;
        for (const [query, field] of [
          ["cursor=bm90LWEtY3Vyc29y", "cursor"],
          ...(typeof jobsCursor === "string" ? [[`cursor=${jobsCursor}`, "cursor"]] : []),
          ["limit=0", "limit"],
          ["page=2", "page"],
        ]) {
          const refused = await call(stack, "GET", `/v1/schedules?${String(query)}`);
          expect(refused.status, query).toBe(400);
          expect(refused.body.issues, query).toEqual([
            expect.objectContaining({ path: field }) as unknown,
          ]);
        }
      } finally {
        for (const name of names) await call(stack, "DELETE", `/v1/schedules/${name}`);
      }
    },
  );
});
