import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { describe, expect, it } from "vitest";

import { JobClient } from "@conveyor/client";
import { newJobId, StreamName, Subject } from "@conveyor/contracts";

import { startServiceStack, waitWhileRunning } from "./service-stack.ts";
import type { ServiceStack } from "./service-stack.ts";

const jobsPerPath = 20;

interface JobView {
  id: string;
  type: string;
  status: string;
  source: string | null;
}

interface RejectionView {
  subject: string;
  reason: string;
  rawPreview: string;
}

async function getJson(
  stack: ServiceStack,
  path: string,
): Promise<{ status: number; body: unknown }> {
  const res = await fetch(`${stack.gatewayUrl}${path}`);
  return { status: res.status, body: await res.json() };
}

async function getJob(stack: ServiceStack, id: string): Promise<JobView | undefined> {
  const { status, body } = await getJson(stack, `/v1/jobs/${id}`);
  return status === 200 ? (body as JobView) : undefined;
}

async function submitOverRest(stack: ServiceStack, payload: unknown): Promise<string> {
  const res = await fetch(`${stack.gatewayUrl}/v1/jobs`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ type: "echo", payload }),
  });
  const body = (await res.json()) as { id?: string };
  expect(res.status, JSON.stringify(body)).toBe(202);
  expect(body.id).toEqual(expect.any(String));
  return body.id!;
}

/** The worker registers `echo` in the job-types bucket; until then the gateway answers 422. */
async function echoRegistered(stack: ServiceStack): Promise<void> {
  await waitWhileRunning(
    stack,
    async () => {
      const { body } = await getJson(stack, "/v1/job-types");
      return (body as { items: { type: string }[] }).items.some((t) => t.type === "echo");
    },
    { timeoutMs: 30_000, message: "the worker did not register the echo type" },
  );
}

/** Waits until every job has `status`; the error lists the ones that did not get there. */
async function allReach(
  stack: ServiceStack,
  ids: readonly string[],
  status: string,
  timeoutMs: number,
): Promise<Map<string, JobView>> {
  const seen = new Map<string, JobView>();
  const pending = new Set(ids);
  await waitWhileRunning(
    stack,
    async () => {
      for (const id of [...pending]) {
        const job = await getJob(stack, id);
        if (job === undefined) continue;
        seen.set(id, job);
        if (job.status === status) pending.delete(id);
      }
      return pending.size === 0;
    },
    {
      timeoutMs,
      intervalMs: 250,
      get message() {
        const stuck = [...pending].map((id) => `${id}: ${seen.get(id)?.status ?? "not found"}`);
        return `${pending.size} of ${ids.length} jobs did not reach ${status}:\n${stuck.join("\n")}`;
      },
    },
  );
  return seen;
}

describe("the four services as separate processes", () => {
  it(
    "run echo jobs from REST, NATS, the client and a bulk to succeeded, record malformed ones and drain WORK",
    { timeout: 180_000 },
    async () => {
      await using stack = await startServiceStack();
      const nc = await connect({ servers: stack.natsUrl });
      try {
        await echoRegistered(stack);

        const restIds: string[] = [];
        for (let i = 0; i < jobsPerPath; i++) {
          restIds.push(await submitOverRest(stack, { via: "rest", i }));
        }

        const js = jetstream(nc);
        const natsIds: string[] = [];
        for (let i = 0; i < jobsPerPath; i++) {
          const id = newJobId();
          const ack = await js.publish(
            Subject.submit("echo"),
            JSON.stringify({ id, type: "echo", payload: { via: "nats", i } }),
          );
          expect(ack.duplicate).toBe(false);
          natsIds.push(id);
        }

        const client = new JobClient(nc);
        const results = await client.submitMany(
          Array.from({ length: jobsPerPath }, (_, i) => ({
            type: "echo",
            payload: { via: "client", i },
          })),
        );
        await client.close();
        const clientIds = results.map((r) => (r.ok ? (r.id ?? "") : String(r.error)));
        expect(results.filter((r) => !r.ok)).toEqual([]);

        // The client's bulk runs; a raw bulk whose one job is refused (priority 12) is recorded.
        const bulkClient = new JobClient(nc);
        const bulkResults = await bulkClient.submitBulk(
          Array.from({ length: jobsPerPath }, (_, i) => ({
            type: "echo",
            payload: { via: "bulk", i },
          })),
        );
        await bulkClient.close();
        expect(bulkResults.filter((r) => !r.ok)).toEqual([]);
        const bulkIds = bulkResults.map((r) => (r.ok ? (r.id ?? "") : ""));
        const badInBulk = newJobId();
        await js.publish(
          Subject.submitBulk("echo"),
          JSON.stringify({ jobs: [{ id: badInBulk, payload: 1, priority: 12 }] }),
        );

        const malformed = `{"type":"echo","payload": not json ${newJobId()}`;
        await js.publish(Subject.submit("echo"), malformed);

        const ids = [...restIds, ...natsIds, ...clientIds, ...bulkIds];
        const jobs = await allReach(stack, ids, "succeeded", 90_000);
        for (const id of restIds)
          expect(jobs.get(id)).toMatchObject({ type: "echo", source: "rest" });
        for (const id of [...natsIds, ...clientIds, ...bulkIds])
          expect(jobs.get(id)).toMatchObject({ type: "echo", source: "nats" });

        const rejection = await waitWhileRunning(
          stack,
          async () => {
            const { body } = await getJson(stack, "/v1/rejections");
            return (body as { items: RejectionView[] }).items.find(
              (r) => r.rawPreview === malformed,
            );
          },
          { timeoutMs: 30_000, message: "the malformed message was not recorded as a rejection" },
        );
        expect(rejection).toMatchObject({
          subject: Subject.submit("echo"),
          reason: "invalid_json",
        });
        // Found by the id the publisher gave the job, as a NATS publisher would look it up.
        const bulkRejection = await waitWhileRunning(
          stack,
          async () => {
            const { body } = await getJson(stack, `/v1/rejections?jobId=${badInBulk}`);
            const { items } = body as { items: (RejectionView & { jobId?: string })[] };
            expect(items.filter((r) => r.jobId !== badInBulk)).toEqual([]);
            return items[0];
          },
          { timeoutMs: 30_000, message: "the bad job of the bulk was not recorded as a rejection" },
        );
        expect(bulkRejection).toMatchObject({
          subject: Subject.submitBulk("echo"),
          reason: "invalid_envelope",
        });
        expect(JSON.stringify(bulkRejection)).toContain("jobs[0].priority");

        const jsm = await jetstreamManager(nc);
        await waitWhileRunning(
          stack,
          async () => (await jsm.streams.info(StreamName.Work)).state.messages === 0,
          { timeoutMs: 15_000, message: "the WORK stream still holds messages" },
        );

        expect(stack.deadServices(), stack.logs()).toEqual([]);
      } finally {
        await nc.close();
      }
    },
  );
});

describe("restarting services", () => {
  it(
    "jobs submitted while the worker is down run when it is back; a restarted projector resumes",
    { timeout: 180_000 },
    async () => {
      await using stack = await startServiceStack();
      await echoRegistered(stack);

      await stack.stopService("worker");
      const ids: string[] = [];
      for (let i = 0; i < 5; i++)
        ids.push(await submitOverRest(stack, { while: "worker down", i }));
      await allReach(stack, ids, "queued", 30_000);

      // The projector starts again against a database that already has its indexes and documents.
      await stack.stopService("status-projector");
      stack.startService("status-projector");
      stack.startService("worker");

      await allReach(stack, ids, "succeeded", 60_000);
      expect(stack.deadServices(), stack.logs()).toEqual([]);
    },
  );
});
