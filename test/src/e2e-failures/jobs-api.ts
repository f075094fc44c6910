import { setTimeout as sleep } from "node:timers/promises";

import { jetstreamManager } from "@nats-io/jetstream";
import type { JetStreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import type { NatsConnection } from "@nats-io/transport-node";
import { afterAll, beforeAll } from "vitest";

import { LifecycleKind, StreamName, Subject, newJobId } from "@conveyor/contracts";
import { waitFor } from "@conveyor/testing";
import type { ServerProcess } from "@conveyor/testing";

import { startServiceStack, waitWhileRunning } from "../e2e/service-stack.ts";
import type { ServiceStack } from "../e2e/service-stack.ts";

/** One attempt as `GET /v1/jobs/:id` shows it (docs/rest-api.md). */
export interface AttemptView {
  run: number;
  attempt: number;
  workerId: string | null;
  startedAt: string | null;
  finishedAt: string | null;
  durationMs: number | null;
  outcome: "succeeded" | "failed" | "cancelled" | null;
  error: { name?: string; message: string } | null;
  retryDelayMs: number | null;
}

/** The fields of a job view these tests read. */
export interface JobView {
  id: string;
  type: string;
  status: string;
  attempts: number;
  attemptHistory: AttemptView[];
  reason: string | null;
  error: { name?: string; message: string } | null;
}

/** What one `POST /v1/jobs` came back with; `status` 0 means the request itself failed. */
export interface SubmitAnswer {
  id: string;
  status: number;
  body: string;
}

/** Longest one HTTP request to the gateway may take; a hung gateway fails the test, not the run. */
const requestTimeoutMs = 15_000;

/** Submits a job with an id of our own, so even an unanswered submission can be looked up later. */
export async function submit(
  stack: ServiceStack,
  type: string,
  payload: unknown,
  extra: Record<string, unknown> = {},
): Promise<SubmitAnswer> {
  const id = newJobId();
  try {
    const res = await fetch(`${stack.gatewayUrl}/v1/jobs`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ id, type, payload, ...extra }),
      signal: AbortSignal.timeout(requestTimeoutMs),
    });
    return { id, status: res.status, body: await res.text() };
  } catch (err) {
    return { id, status: 0, body: err instanceof Error ? err.message : String(err) };
  }
}

/** Submits a job that must be accepted (`202`) and returns its id. */
export async function submitAccepted(
  stack: ServiceStack,
  type: string,
  payload: unknown,
  extra: Record<string, unknown> = {},
): Promise<string> {
  const answer = await submit(stack, type, payload, extra);
  if (answer.status !== 202) {
    throw new Error(`submission of ${type} answered ${answer.status}: ${answer.body}`);
  }
  return answer.id;
}

/** A request to the gateway with a JSON body (a string goes as it is), and its JSON answer. */
export async function callApi(
  stack: ServiceStack,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${stack.gatewayUrl}${path}`, {
    method,
    headers: { "content-type": "application/json" },
    ...(body === undefined ? {} : { body: typeof body === "string" ? body : JSON.stringify(body) }),
    signal: AbortSignal.timeout(requestTimeoutMs),
  });
  const text = await res.text();
  return {
    status: res.status,
    body: text === "" ? {} : (JSON.parse(text) as Record<string, unknown>),
  };
}

export async function getJob(stack: ServiceStack, id: string): Promise<JobView | undefined> {
  const res = await fetch(`${stack.gatewayUrl}/v1/jobs/${id}`, {
    signal: AbortSignal.timeout(requestTimeoutMs),
  });
  return res.status === 200 ? ((await res.json()) as JobView) : undefined;
}

/** Every job of `type` in the read model, through the paged list endpoint. */
export async function listJobs(stack: ServiceStack, type: string): Promise<Map<string, JobView>> {
  const jobs = new Map<string, JobView>();
  let cursor: string | null = null;
  do {
    const query = new URLSearchParams({ type, limit: "500" });
    if (cursor !== null) query.set("cursor", cursor);
    const res = await fetch(`${stack.gatewayUrl}/v1/jobs?${query.toString()}`, {
      signal: AbortSignal.timeout(requestTimeoutMs),
    });
    if (res.status !== 200) throw new Error(`GET /v1/jobs answered ${res.status}`);
    const page = (await res.json()) as { items: JobView[]; nextCursor: string | null };
    for (const job of page.items) jobs.set(job.id, job);
    cursor = page.nextCursor;
  } while (cursor !== null);
  return jobs;
}

/** Waits until workers have registered every one of `types` (until then submissions get 422). */
export async function typesRegistered(
  stack: ServiceStack,
  types: readonly string[],
): Promise<void> {
  await waitWhileRunning(
    stack,
    async () => {
      const res = await fetch(`${stack.gatewayUrl}/v1/job-types`);
      const { items } = (await res.json()) as { items: { type: string }[] };
      return types.every((type) => items.some((item) => item.type === type));
    },
    { timeoutMs: 30_000, message: `the worker did not register ${types.join(", ")}` },
  );
}

/** The stack a describe block's tests share, with a connection to its NATS. */
export interface SharedStack {
  stack: ServiceStack;
  nc: NatsConnection;
  jsm: JetStreamManager;
}

/**
 * Starts the four services once for the tests of the describe block it is called in, waits until
 * workers have registered `types`, and stops them after the block. Read the fields in the tests.
 */
export function sharedServiceStack(types: readonly string[]): SharedStack {
  const shared = {} as SharedStack;
  beforeAll(async () => {
    shared.stack = await startServiceStack();
    shared.nc = await connect({ servers: shared.stack.natsUrl });
    shared.jsm = await jetstreamManager(shared.nc);
    await typesRegistered(shared.stack, types);
  }, 120_000);
  afterAll(async () => {
    await shared.nc.close();
    await shared.stack[Symbol.asyncDispose]();
  });
  return shared;
}

/**
 * Waits until every job in `ids` (all of type `type`) has `status` in the read model, and returns
 * the jobs of the type as last read. The error names each job that did not get there.
 */
export async function allReach(
  stack: ServiceStack,
  type: string,
  ids: readonly string[],
  status: string,
  timeoutMs: number,
): Promise<Map<string, JobView>> {
  let seen = new Map<string, JobView>();
  const pending = () => ids.filter((id) => seen.get(id)?.status !== status);
  await waitWhileRunning(
    stack,
    async () => {
      seen = await listJobs(stack, type);
      return pending().length === 0;
    },
    {
      timeoutMs,
      intervalMs: 500,
      get message() {
        const stuck = pending().map((id) => `${id}: ${seen.get(id)?.status ?? "not found"}`);
        return `${stuck.length} of ${ids.length} jobs did not reach ${status}:\n${stuck.join("\n")}`;
      },
    },
  );
  return seen;
}

/**
 * How many attempts of each job ran their handler, from what `EVENTS` holds: an attempt's
 * `started` event, or the `startedAt` of its `succeeded` / `failed` event when it ended within the
 * turn it started in and so has none. Each attempt counts once (its events' `Nats-Msg-Id` collapses
 * re-publishes), so a count above the attempts a job shows means a handler ran twice.
 */
export async function handlerStartCounts(nc: NatsConnection): Promise<Map<string, number>> {
  const jsm = await jetstreamManager(nc);
  const started = new Map<string, Set<string>>();
  const kinds = [LifecycleKind.Started, LifecycleKind.Succeeded, LifecycleKind.Failed];
  for (const kind of kinds) {
    for (const body of await storedBodies(jsm, StreamName.Events, Subject.event("*", kind))) {
      const event = body as { jobId: string; run: number; attempt: number; startedAt?: string };
      if (kind !== LifecycleKind.Started && event.startedAt === undefined) continue;
      const attempts = started.get(event.jobId) ?? new Set<string>();
      attempts.add(`${event.run}:${event.attempt}`);
      started.set(event.jobId, attempts);
    }
  }
  return new Map([...started].map(([id, attempts]) => [id, attempts.size]));
}

/** The bodies of the messages `stream` stores under `subject`, oldest first. */
export async function storedBodies(
  jsm: JetStreamManager,
  stream: string,
  subject: string,
): Promise<unknown[]> {
  const bodies: unknown[] = [];
  let seq = 1;
  for (;;) {
    // `next_by_subj` is part of the server's message-get request; nats.js types only `seq`.
    const query: { seq: number; next_by_subj: string } = { seq, next_by_subj: subject };
    const msg = await jsm.streams.getMessage(stream, query);
    if (msg === null) return bodies;
    bodies.push(msg.json());
    seq = msg.seq + 1;
  }
}

/** Ids of the jobs whose work items are still stored in `WORK` under `work.<type>`. */
export async function storedWorkItems(jsm: JetStreamManager, type: string): Promise<string[]> {
  const items = await storedBodies(jsm, StreamName.Work, Subject.work(type));
  return items.map((item) => (item as { id: string }).id);
}

/** Waits until a service process has printed `text` (a log message, e.g. `worker started`). */
export async function printed(
  proc: ServerProcess,
  text: string,
  timeoutMs = 60_000,
): Promise<void> {
  const outcome = await waitFor(
    () => {
      if (proc.output().includes(text)) return Promise.resolve("printed" as const);
      // A process that is gone will not print it: stop waiting.
      return Promise.resolve(proc.running() ? undefined : ("exited" as const));
    },
    { timeoutMs, intervalMs: 100, message: `${proc.name} did not print "${text}"` },
  ).catch((err: unknown) => {
    throw new Error(`${proc.name} did not print "${text}":\n${proc.output()}`, { cause: err });
  });
  if (outcome === "exited") {
    throw new Error(`${proc.name} exited before it printed "${text}":\n${proc.output()}`);
  }
}

/** Resolves with the process's exit code or signal, or `timeout` after `ms`. */
export function exitWithin(proc: ServerProcess, ms: number): Promise<number | string> {
  return Promise.race([proc.exited, sleep(ms, "timeout")]);
}
