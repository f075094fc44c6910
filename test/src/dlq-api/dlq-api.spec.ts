import {
  CommandVerb,
  ConsumerName,
  DeadLetterLogEntry,
  StreamName,
  Subject,
} from "@conveyor/contracts";
import type { DeadLetter, WorkItem } from "@conveyor/contracts";
import { findDeadLetter } from "@conveyor/read-model";
import { uniqueName, waitFor } from "@conveyor/testing";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";

import { System, uniqueType } from "../cancellation/system.ts";
import type { JobBody } from "../cancellation/system.ts";
import { jobHistory, publishEvents } from "../status-projector/events.ts";
import { consumerSettled } from "../support/nats-suite.ts";
import { publishRawHeaders } from "../support/raw-publish.ts";

/** A dead letter as `GET /v1/dlq` shows it (the fields the tests read). */
interface LetterBody {
  id: string | null;
  type: string;
  run: number;
  reason: string;
  error: { name?: string; message: string };
  attempts: number;
  dlqSeq: number;
  replayable: boolean;
  workItem: { id: string; payload: unknown; run: number } | null;
}

/** Tiny retries, so a failing job is dead within a fraction of a second. */
const retry = { maxAttempts: 2, initialDelayMs: 50 };

describe("dead-letter API", () => {
  let system: System;

  beforeAll(async () => {
    system = await System.start();
  });

  afterEach(async () => {
    await system.stopWorkers();
  });

  afterAll(async () => {
    await system[Symbol.asyncDispose]();
  });

  /** A worker whose handler fails while `broken.value` is true. */
  async function flakyWorker(type: string, broken: { value: boolean }, calls: string[]) {
    await system.worker({
      handlers: {
        [type]: {
          retry,
          handler: (job, ctx) => {
            calls.push(`${job.id}@${job.run}.${ctx.attempt}`);
            if (broken.value) throw new Error(`downstream unavailable (attempt ${ctx.attempt})`);
            return { done: job.payload };
          },
        },
      },
    });
  }

  async function letters(query: string): Promise<LetterBody[]> {
    const response = await system.get(`/v1/dlq${query}`);
    expect(response.status).toBe(200);
    return response.body["items"] as LetterBody[];
  }

  /**
   * Waits until `GET /v1/dlq?type=` lists `count` letters of the type, and returns them: a letter
   * reaches the read model on its own path (the DLQ), so it may trail the job's status.
   */
  async function lettersOfType(type: string, count: number): Promise<LetterBody[]> {
    return waitFor(
      async () => {
        const found = await letters(`?type=${type}`);
        return found.length === count ? found : undefined;
      },
      { message: `${count} letters of ${type} listed` },
    );
  }

  /**
   * A job of `type` dead on a worker that fails while `broken.value` is true, and its letter once
   * `GET /v1/dlq` lists it.
   */
  async function deadJobWithLetter(
    type: string,
    payload: unknown,
    broken: { value: boolean },
  ): Promise<{ id: string; letter: LetterBody }> {
    await flakyWorker(type, broken, []);
    const id = await system.submit(type, payload);
    await system.waitForJob(id, (j) => j.status === "dead", "dead");
    const [letter] = await lettersOfType(type, 1);
    return { id, letter: letter! };
  }

  async function waitUntilWorkEmpty(type: string): Promise<void> {
    await waitFor(
      async () => {
        const left = await system.workLeft(type);
        return left.stored === 0 && left.unacknowledged === 0;
      },
      { message: `no work of ${type} left` },
    );
  }

  it("lists a dead job with its last error, and replays it as a new run that succeeds", async () => {
    const type = uniqueType("always-fails");
    const broken = { value: true };
    const calls: string[] = [];
    await flakyWorker(type, broken, calls);
    const id = await system.submit(type, { order: 42 });
    const dead = await system.waitForJob(id, (j) => j.status === "dead", "dead");
    expect(dead).toMatchObject({ run: 1, attempts: 2, reason: "attempts_exhausted" });
    await waitUntilWorkEmpty(type);

    const listed = await lettersOfType(type, 1);
    expect(listed[0]).toMatchObject({
      id,
      type,
      run: 1,
      reason: "attempts_exhausted",
      attempts: 2,
      replayable: true,
      error: { message: "downstream unavailable (attempt 2)" },
      workItem: { id, payload: { order: 42 }, run: 1 },
    });
    const one = await system.get(`/v1/dlq/${id}`);
    expect(one.status).toBe(200);
    expect(one.body).toEqual(listed[0]);
    // The unfiltered list has it too.
    expect((await letters("?limit=500")).map((l) => l.id)).toContain(id);

    broken.value = false;
    const replay = await system.post(`/v1/dlq/${id}/replay`);
    expect(replay.status).toBe(202);
    expect(replay.body).toEqual({ id, status: "replaying", run: 2 });

    const done = await system.waitForJob(id, (j) => j.status === "succeeded", "replayed job done");
    expect(done).toMatchObject({ id, run: 2, attempts: 1, result: { done: { order: 42 } } });
    // Run 1's history is kept; its last attempt failed with the error of the dead letter.
    expect(done.attemptHistory.map((a) => [a.run, a.attempt, a.outcome])).toEqual([
      [1, 1, "failed"],
      [1, 2, "failed"],
      [2, 1, "succeeded"],
    ]);
    const history = (await system.get(`/v1/jobs/${id}`)).body["attemptHistory"] as {
      error: { message: string } | null;
    }[];
    expect(history[1]?.error?.message).toBe("downstream unavailable (attempt 2)");
    expect(calls).toEqual([`${id}@1.1`, `${id}@1.2`, `${id}@2.1`]);

    // The letter is gone, the replay is logged, and a second replay finds nothing to replay.
    const gone = await waitFor(
      async () => {
        const response = await system.get(`/v1/dlq/${id}`);
        return response.status === 404 ? response : undefined;
      },
      { message: "replay projected" },
    );
    expect(await letters(`?type=${type}`)).toEqual([]);
    expect(gone.body["message"]).toContain("replayed");
    expect(await findDeadLetter(system.gateway.db, id)).toMatchObject({
      state: "replayed",
      run: 1,
      source: { seq: listed[0]?.dlqSeq },
      log: [{ action: "replayed", run: 1, replayRun: 2 }],
    });
    expect((await system.post(`/v1/dlq/${id}/replay`)).status).toBe(404);
    const log = await system.jsm.streams.getMessage(StreamName.Dlq, {
      last_by_subj: Subject.deadLetterLog(id),
    });
    expect(DeadLetterLogEntry.parse(log?.json())).toMatchObject({
      action: "replayed",
      jobId: id,
      type,
      run: 1,
      replayRun: 2,
    });
  });

  it("discards a letter: it leaves the DLQ, the job stays dead, and the discard is logged", async () => {
    const type = uniqueType("discard");
    const { id, letter } = await deadJobWithLetter(type, null, { value: true });

    const discarded = await system.request("DELETE", `/v1/dlq/${id}`, { reason: "obsolete" });
    expect(discarded).toMatchObject({ status: 202, body: { id, status: "discarding" } });
    await waitFor(async () => (await letters(`?type=${type}`)).length === 0, {
      message: "letter removed",
    });
    const job = await system.get(`/v1/jobs/${id}`);
    expect((job.body as unknown as JobBody).status).toBe("dead");
    const gone = await system.get(`/v1/dlq/${id}`);
    expect(gone).toMatchObject({ status: 404, body: { error: "not_found" } });
    expect(gone.body["message"]).toContain("discarded");
    expect(await findDeadLetter(system.gateway.db, id)).toMatchObject({
      state: "discarded",
      source: { stream: "DLQ", seq: letter.dlqSeq },
      log: [{ action: "discarded", run: 1, seq: letter.dlqSeq, reason: "obsolete" }],
    });
    const log = await system.jsm.streams.getMessage(StreamName.Dlq, {
      last_by_subj: Subject.deadLetterLog(id),
    });
    expect(DeadLetterLogEntry.parse(log?.json())).toMatchObject({
      action: "discarded",
      reason: "obsolete",
      seq: letter.dlqSeq,
    });
  });

  it("replays and discards letters whose headers nats.js cannot read (another client's)", async () => {
    const type = uniqueType("bad-headers");
    await system.register({ type, retry: { maxAttempts: 1 } });
    /** A letter as a worker written with another client might store it: a header nats.js refuses. */
    const publishLetter = async (jobId: string) => {
      const at = new Date().toISOString();
      const workItem: WorkItem = {
        id: jobId,
        type,
        payload: { n: 1 },
        priority: 5,
        maxAttempts: 1,
        timeoutMs: 30_000,
        submittedAt: at,
        run: 1,
      };
      const letter: DeadLetter = {
        type,
        jobId,
        run: 1,
        workItem,
        error: { message: "downstream unavailable" },
        reason: "non_retryable",
        attempts: 1,
        deadAt: at,
        source: { stream: StreamName.Work, subject: Subject.work(type), seq: 0 },
      };
      await publishRawHeaders(
        system.nats.url,
        Subject.dlq(type),
        ["bad key: x"],
        JSON.stringify(letter),
      );
      await waitFor(async () => (await system.get(`/v1/dlq/${jobId}`)).status === 200, {
        message: `letter of ${jobId} projected`,
      });
    };
    const discardId = uniqueName("discard");
    const replayId = uniqueName("replay");
    await publishLetter(discardId);
    await publishLetter(replayId);

    expect((await system.request("DELETE", `/v1/dlq/${discardId}`, {})).status).toBe(202);
    await waitFor(
      async () => (await findDeadLetter(system.gateway.db, discardId))?.state === "discarded",
      {
        message: "the letter is discarded",
      },
    );

    const ran: unknown[] = [];
    await system.worker({
      handlers: {
        [type]: (job) => {
          ran.push(job.id);
          return "done";
        },
      },
    });
    expect((await system.post(`/v1/dlq/${replayId}/replay`)).status).toBe(202);
    const replayed = await system.waitForJob(replayId, (j) => j.status === "succeeded", "replayed");
    expect(replayed.run).toBe(2);
    expect(ran).toEqual([replayId]);
  });

  it("replays every dead letter of a type at once", async () => {
    const type = uniqueType("bulk");
    const broken = { value: true };
    const calls: string[] = [];
    await flakyWorker(type, broken, calls);
    const ids = [
      await system.submit(type, { n: 1 }),
      await system.submit(type, { n: 2 }),
      await system.submit(type, { n: 3 }),
    ];
    for (const id of ids) await system.waitForJob(id, (j) => j.status === "dead", `${id} dead`);
    await waitFor(async () => (await letters(`?type=${type}`)).length === 3, {
      message: "three letters",
    });

    // Paging: two pages of two and one, oldest first.
    const first = await system.get(`/v1/dlq?type=${type}&limit=2`);
    const firstItems = first.body["items"] as LetterBody[];
    expect(firstItems.map((l) => l.id)).toEqual(ids.slice(0, 2));
    const cursor = first.body["nextCursor"] as string;
    const second = await system.get(`/v1/dlq?type=${type}&limit=2&cursor=${cursor}`);
    expect((second.body["items"] as LetterBody[]).map((l) => l.id)).toEqual(ids.slice(2));
    expect(second.body["nextCursor"]).toBeNull();

    broken.value = false;
    const bulk = await system.post("/v1/dlq/replay", { type });
    expect(bulk).toMatchObject({
      status: 202,
      body: { type, replaying: 3, skipped: 0, more: false },
    });
    for (const id of ids) {
      await system.waitForJob(id, (j) => j.status === "succeeded" && j.run === 2, `${id} done`);
    }
    await waitFor(async () => (await letters(`?type=${type}`)).length === 0, {
      message: "replays projected",
    });
  });

  it("leaves out of a bulk replay the letters the DLQ no longer holds (past its retention)", async () => {
    const type = uniqueType("expired");
    const broken = { value: true };
    await flakyWorker(type, broken, []);
    const gone = await system.submit(type, { n: 1 });
    await system.waitForJob(gone, (j) => j.status === "dead", "first dead");
    const kept = await system.submit(type, { n: 2 });
    await system.waitForJob(kept, (j) => j.status === "dead", "second dead");
    const listed = await lettersOfType(type, 2);
    // The DLQ's max age removes its oldest messages: here, everything before the second letter.
    const keptSeq = listed.find((l) => l.id === kept)!.dlqSeq;
    await system.jsm.streams.purge(StreamName.Dlq, { seq: keptSeq });

    // The letter no longer held is not listed, and neither read, replayed nor discarded.
    const list = await system.get(`/v1/dlq?type=${type}`);
    expect((list.body.items as { id: string }[]).map((l) => l.id)).toEqual([kept]);
    for (const [method, path] of [
      ["GET", `/v1/dlq/${gone}`],
      ["POST", `/v1/dlq/${gone}/replay`],
      ["DELETE", `/v1/dlq/${gone}`],
    ] as const) {
      const response = await system.request(method, path);
      expect(response.status, `${method} ${path}`).toBe(404);
      expect(String(response.body.message), `${method} ${path}`).toMatch(/no longer in the DLQ/);
    }

    broken.value = false;
    const bulk = await system.post("/v1/dlq/replay", { type });
    expect(bulk).toMatchObject({
      status: 202,
      body: { type, replaying: 1, skipped: 0, more: false },
    });
    await system.waitForJob(kept, (j) => j.status === "succeeded" && j.run === 2, "replayed");
  });

  it("acknowledges malformed, unknown and stale commands without touching the letter", async () => {
    const type = uniqueType("stale");
    const { id, letter } = await deadJobWithLetter(type, null, { value: true });
    const requestedAt = new Date().toISOString();
    const commands: [string, unknown][] = [
      [Subject.command(CommandVerb.Replay, id), "{not json"],
      [Subject.command(CommandVerb.Replay, id), { jobId: id, run: 1 }],
      ["jobs.cmd.pause." + id, { jobId: id }],
      // A stale place: another message's sequence, and the right place with the wrong run.
      [Subject.command(CommandVerb.Replay, id), { jobId: id, run: 1, seq: 999_999, requestedAt }],
      [
        Subject.command(CommandVerb.Discard, id),
        { jobId: id, run: 7, seq: letter.dlqSeq, requestedAt },
      ],
    ];
    let through = 0;
    for (const [subject, body] of commands) {
      const text = typeof body === "string" ? body : JSON.stringify(body);
      through = (await system.js.publish(subject, text)).seq;
    }
    await consumerSettled(system.jsm, StreamName.Jobs, ConsumerName.DispatcherCommands, {
      through,
      message: "every command acknowledged",
    });
    // The streams themselves, not the read model (which projects what happened a moment later):
    // the letter is still stored, no replay or discard was logged, and no second run was queued.
    const stored = await system.jsm.streams.getMessage(StreamName.Dlq, { seq: letter.dlqSeq });
    expect(stored?.subject).toBe(Subject.dlq(type));
    const log = await system.jsm.streams.getMessage(StreamName.Dlq, {
      last_by_subj: Subject.deadLetterLog(id),
    });
    expect(log).toBeNull();
    const queued = await system.jsm.streams.getMessage(StreamName.Events, {
      last_by_subj: Subject.event(id, "queued"),
    });
    expect(queued?.json<{ run: number }>().run).toBe(1);
    expect((await letters(`?type=${type}`)).map((l) => l.dlqSeq)).toEqual([letter.dlqSeq]);
    expect((await system.get(`/v1/jobs/${id}`)).body["status"]).toBe("dead");
  });

  it("refuses to replay a letter whose job already runs a later run, so the job cannot run twice", async () => {
    // A replay the dispatcher gave up on after storing the new run's work item leaves the letter
    // open while that run goes on; past WORK's duplicate window a second replay would run it again.
    const type = uniqueType("half-replayed");
    const broken = { value: true };
    const { id, letter } = await deadJobWithLetter(type, { n: 1 }, broken);
    broken.value = false;
    // What that replay stored before it was given up on: run 2's work item, and nothing else.
    await system.js.publish(Subject.work(type), JSON.stringify({ ...letter.workItem, run: 2 }), {
      msgID: `${id}:2`,
    });
    await system.waitForJob(id, (j) => j.status === "succeeded" && j.run === 2, "run 2 done");

    const again = await system.post(`/v1/dlq/${id}/replay`);
    expect(again).toMatchObject({ status: 409, body: { error: "conflict" } });
    expect(again.body["message"]).toBe(
      `job ${id} was replayed already (it is on run 2); discard the dead letter of run 1 to settle it`,
    );
    const discarded = await system.request("DELETE", `/v1/dlq/${id}`, {});
    expect(discarded.status).toBe(202);
  });

  it("says a dead job's letter is gone once the DLQ's retention has passed, not that it is coming", async () => {
    // A job that died long ago: its letter left the DLQ at its max age, its document the read model.
    const id = uniqueName("long-dead");
    const events = jobHistory(id, { end: "dead" }, Date.UTC(2025, 0, 1));
    await publishEvents(system.js, events);
    const dead = await system.waitForJob(id, (j) => j.status === "dead", "dead");

    const response = await system.get(`/v1/dlq/${id}`);
    expect(response).toMatchObject({ status: 404, body: { error: "not_found" } });
    expect(response.body["message"]).toBe(
      `job ${id} died at ${dead.finishedAt!}, and its dead letter is gone: the DLQ keeps letters for 30 days`,
    );
  });

  it("answers 404 for an unknown job or one that never died, and 400 for bad input", async () => {
    expect((await system.get("/v1/dlq/no-such-job")).status).toBe(404);
    expect((await system.post("/v1/dlq/no-such-job/replay")).status).toBe(404);

    const type = uniqueType("fine");
    await system.worker({ handlers: { [type]: () => "ok" } });
    const id = await system.submit(type, null);
    await system.waitForJob(id, (j) => j.status === "succeeded", "succeeded");
    const none = await system.get(`/v1/dlq/${id}`);
    expect(none).toMatchObject({ status: 404, body: { error: "not_found" } });
    expect(none.body["message"]).toContain("no dead letter");

    expect(await system.get("/v1/dlq?type=Not%20A%20Type")).toMatchObject({
      status: 400,
      body: { error: "invalid_parameter" },
    });
    expect(await system.get("/v1/dlq?cursor=garbage!")).toMatchObject({
      status: 400,
      body: { error: "invalid_parameter", issues: [{ path: "cursor" }] },
    });
    expect(await system.post("/v1/dlq/replay", {})).toMatchObject({
      status: 400,
      body: { error: "invalid_body", issues: [{ path: "type" }] },
    });
  });
});
