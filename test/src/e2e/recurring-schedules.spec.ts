import { jetstream } from "@nats-io/jetstream";
import { headers as natsHeaders } from "@nats-io/transport-node";
import { describe, expect, it } from "vitest";

import { Header, StreamName, Subject } from "@conveyor/contracts";

import { sharedServiceStack, storedBodies } from "../e2e-failures/jobs-api.ts";
import { waitWhileRunning } from "./service-stack.ts";
import type { ServiceStack } from "./service-stack.ts";

interface JobView {
  id: string;
  status: string;
  batchId: string | null;
  payload: unknown;
  source: string | null;
}

async function call(
  stack: ServiceStack,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${stack.gatewayUrl}${path}`, {
    method,
    headers: { "content-type": "application/json" },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return {
    status: res.status,
    body: text === "" ? {} : (JSON.parse(text) as Record<string, unknown>),
  };
}

async function runsOf(stack: ServiceStack, name: string): Promise<JobView[]> {
  const { body } = await call(stack, "GET", `/v1/jobs?batchId=${name}&limit=500`);
  return (body as unknown as { items: JobView[] }).items;
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
      const { stack, jsm } = shared;
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
      ] as const;
      for (const [name, body, status, field] of refusals) {
        const refused = await call(stack, "PUT", `/v1/schedules/${name}`, body);
        expect(refused.status, JSON.stringify(body)).toBe(status);
        expect(refused.body.issues).toEqual([expect.objectContaining({ path: field }) as unknown]);
      }
      expect((await call(stack, "GET", "/v1/schedules")).body).toMatchObject({ items: [] });

      // A schedule published over NATS whose job no worker runs: each tick is a rejection.
      const headers = natsHeaders();
      headers.set(Header.Schedule, "@every 1s");
      headers.set(Header.ScheduleTarget, Subject.recurringTick("orphan"));
      await jetstream(shared.nc).publish(
        Subject.recurring("orphan"),
        JSON.stringify({
          name: "orphan",
          every: "1s",
          job: { type: "no.worker.runs.it" },
          source: "nats",
          updatedAt: new Date().toISOString(),
        }),
        { headers },
      );
      const rejection = await waitWhileRunning(
        stack,
        async () =>
          (await storedBodies(jsm, StreamName.Events, "events.*.rejected")).find(
            (event) => (event as { subject?: string }).subject === Subject.recurringTick("orphan"),
          ),
        {
          timeoutMs: 15_000,
          message: "the orphan schedule's tick was not recorded as a rejection",
        },
      );
      expect(rejection).toMatchObject({ reason: "unknown_type" });
      expect((await call(stack, "DELETE", "/v1/schedules/orphan")).status).toBe(204);
      expect(stack.deadServices(), stack.logs()).toEqual([]);
    },
  );
});
