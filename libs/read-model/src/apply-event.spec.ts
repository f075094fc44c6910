import type { DeadEvent, JobEvent, QueuedEvent } from "@conveyor/contracts";
import { describe, expect, it } from "vitest";

import { applyEvent } from "./apply-event.ts";
import type { JobDocument } from "./documents.ts";
import { JobMismatchError } from "./errors.ts";
import { maxAttemptRecords, mergeJobDocuments } from "./merge-job-documents.ts";

const jobId = "job-1";
const base = { jobId, type: "email.send", run: 1, traceId: "trace-1" } as const;
const error = { name: "Error", message: "smtp down" };

const queued = (run = 1): JobEvent => ({
  ...base,
  kind: "queued",
  run,
  attempt: 0,
  at: `2025-01-0${run}T00:00:00.000Z`,
  payload: { to: "a@example.com" },
  priority: 5,
  maxAttempts: 3,
  submittedAt: `2025-01-0${run}T00:00:00.000Z`,
  source: "rest",
});
const started = (attempt: number, at: string): JobEvent => ({
  ...base,
  kind: "started",
  attempt,
  at,
  workerId: `w${attempt}`,
});
const failed = (attempt: number, at: string): JobEvent => ({
  ...base,
  kind: "failed",
  attempt,
  at,
  error,
  durationMs: 10,
  workerId: `w${attempt}`,
  retryDelayMs: 1000,
});
const succeeded = (attempt: number, at: string): JobEvent => ({
  ...base,
  kind: "succeeded",
  attempt,
  at,
  result: { sent: true },
  durationMs: 20,
  workerId: `w${attempt}`,
});
const progress = (attempt: number, seq: number, at: string): JobEvent => ({
  ...base,
  kind: "progress",
  attempt,
  seq,
  at,
  done: seq,
  total: 10,
});

/** A `dead` event of run 1, its reason `max_attempts` unless `more` says otherwise. */
const dead = (attempt: number, at: string, more: Partial<DeadEvent> = {}): JobEvent => ({
  ...base,
  kind: "dead",
  attempt,
  at,
  error,
  reason: "max_attempts",
  ...more,
});

const cancelled = (attempt: number, at: string): JobEvent => ({
  ...base,
  kind: "cancelled",
  attempt,
  at,
  reason: "cancelled on request",
});

/** Every order of `items`. */
function permutations<T>(items: readonly T[]): T[][] {
  if (items.length <= 1) return [[...items]];
  return items.flatMap((item, i) =>
    permutations([...items.slice(0, i), ...items.slice(i + 1)]).map((rest) => [item, ...rest]),
  );
}

function reduce(events: readonly JobEvent[]): JobDocument {
  const doc = events.reduce<JobDocument | undefined>(applyEvent, undefined);
  if (doc === undefined) throw new Error("no events");
  return doc;
}

describe("applyEvent", () => {
  it("ends the attempt a cancel stopped as cancelled, in whatever order the events come", () => {
    const events = [
      queued(),
      started(1, "2025-01-01T00:00:01.000Z"),
      cancelled(1, "2025-01-01T00:00:03.000Z"),
      // The same cancel recorded by the worker, stored apart after the duplicate window.
      cancelled(1, "2025-01-01T00:00:02.000Z"),
    ];
    const forward = reduce(events);
    expect(forward.status).toBe("cancelled");
    expect(forward.attempts).toEqual([
      {
        run: 1,
        attempt: 1,
        workerId: "w1",
        startedAt: "2025-01-01T00:00:01.000Z",
        finishedAt: "2025-01-01T00:00:02.000Z",
        outcome: "cancelled",
      },
    ]);
    expect(reduce([...events].reverse())).toEqual(forward);
  });

  it("keeps an attempt that failed before the cancel failed, and records no attempt for a cancel before any", () => {
    const waiting = reduce([
      queued(),
      failed(1, "2025-01-01T00:00:01.000Z"),
      cancelled(1, "2025-01-01T00:00:02.000Z"),
    ]);
    expect(waiting.status).toBe("cancelled");
    expect(waiting.attempts.map((a) => a.outcome)).toEqual(["failed"]);
    expect(reduce([queued(), cancelled(0, "2025-01-01T00:00:02.000Z")]).attempts).toEqual([]);
  });

  it("projects a successful job with its submission, attempt and timings", () => {
    const doc = reduce([
      queued(),
      started(1, "2025-01-01T00:00:01.000Z"),
      succeeded(1, "2025-01-01T00:00:02.000Z"),
    ]);
    expect(doc).toStrictEqual({
      _id: jobId,
      type: "email.send",
      status: "succeeded",
      run: 1,
      attempt: 1,
      payload: { to: "a@example.com" },
      priority: 5,
      maxAttempts: 3,
      source: "rest",
      queuedRun: 1,
      attempts: [
        {
          run: 1,
          attempt: 1,
          workerId: "w1",
          startedAt: "2025-01-01T00:00:01.000Z",
          finishedAt: "2025-01-01T00:00:02.000Z",
          durationMs: 20,
          outcome: "succeeded",
        },
      ],
      result: { sent: true },
      submittedAt: "2025-01-01T00:00:00.000Z",
      startedAt: "2025-01-01T00:00:01.000Z",
      finishedAt: "2025-01-01T00:00:02.000Z",
      updatedAt: "2025-01-01T00:00:02.000Z",
      traceId: "trace-1",
    });
  });

  it("takes an attempt's start from its outcome event when it has no started event", () => {
    const start = "2025-01-01T00:00:01.000Z";
    const first = { ...failed(1, "2025-01-01T00:00:01.005Z"), startedAt: start } as JobEvent;
    const second = succeeded(2, "2025-01-01T00:00:03.002Z");
    const secondStart = "2025-01-01T00:00:03.000Z";
    const doc = reduce([queued(), first, { ...second, startedAt: secondStart } as JobEvent]);
    expect(doc.status).toBe("succeeded");
    expect(doc.startedAt).toBe(start);
    expect(doc.attempts.map((a) => [a.attempt, a.startedAt, a.outcome])).toEqual([
      [1, start, "failed"],
      [2, secondStart, "succeeded"],
    ]);
  });

  it("keeps the started event's time when the outcome event also carries one", () => {
    const doc = reduce([
      queued(),
      {
        ...succeeded(1, "2025-01-01T00:00:02.000Z"),
        startedAt: "2025-01-01T00:00:01.001Z",
      } as JobEvent,
      started(1, "2025-01-01T00:00:01.000Z"),
    ]);
    expect(doc.attempts[0]?.startedAt).toBe("2025-01-01T00:00:01.000Z");
    expect(doc.startedAt).toBe("2025-01-01T00:00:01.000Z");
  });

  it("keeps succeeded when the attempt's started event arrives after it", () => {
    const doc = reduce([
      queued(),
      succeeded(1, "2025-01-01T00:00:02.000Z"),
      started(1, "2025-01-01T00:00:01.000Z"),
    ]);
    expect(doc.status).toBe("succeeded");
    expect(doc.result).toEqual({ sent: true });
    expect(doc.attempts[0]?.startedAt).toBe("2025-01-01T00:00:01.000Z");
    expect(doc.updatedAt).toBe("2025-01-01T00:00:02.000Z");
  });

  it("does not let a stale attempt overwrite a newer one", () => {
    const doc = reduce([
      queued(),
      started(2, "2025-01-01T00:00:05.000Z"),
      failed(1, "2025-01-01T00:00:03.000Z"),
      progress(1, 9, "2025-01-01T00:00:02.000Z"),
      progress(2, 1, "2025-01-01T00:00:06.000Z"),
    ]);
    expect(doc.status).toBe("running");
    expect(doc.attempt).toBe(2);
    expect(doc.error).toBeUndefined();
    expect(doc.progress).toMatchObject({ attempt: 2, seq: 1, done: 1 });
    expect(doc.attempts.map((a) => [a.attempt, a.outcome])).toEqual([
      [1, "failed"],
      [2, undefined],
    ]);
  });

  it("keeps a run's success when its work is delivered again and a later attempt fails, in any order", () => {
    // The worker stored `succeeded` but stopped before acknowledging: the work came back.
    const events = [
      queued(),
      started(1, "2025-01-01T00:00:01.000Z"),
      succeeded(1, "2025-01-01T00:00:02.000Z"),
      started(2, "2025-01-01T00:00:40.000Z"),
      failed(2, "2025-01-01T00:00:41.000Z"),
      started(3, "2025-01-01T00:01:40.000Z"),
      dead(3, "2025-01-01T00:01:41.000Z"),
    ];
    const doc = reduce(events);
    expect(doc).toMatchObject({
      status: "succeeded",
      attempt: 1,
      result: { sent: true },
      finishedAt: "2025-01-01T00:00:02.000Z",
    });
    expect(doc.error).toBeUndefined();
    expect(doc.attempts.map((a) => [a.attempt, a.outcome])).toEqual([
      [1, "succeeded"],
      [2, "failed"],
      [3, "failed"],
    ]);
    expect(reduce([...events].reverse())).toEqual(doc);
  });

  it("keeps a run's first success when its work succeeds again", () => {
    const events = [
      queued(),
      succeeded(2, "2025-01-01T00:00:42.000Z"),
      succeeded(1, "2025-01-01T00:00:02.000Z"),
    ];
    expect(reduce(events)).toMatchObject({ attempt: 1, finishedAt: "2025-01-01T00:00:02.000Z" });
    expect(reduce([...events].reverse())).toEqual(reduce(events));
  });

  it("lets a replay's new run follow a run that succeeded", () => {
    const doc = reduce([queued(), succeeded(1, "2025-01-01T00:00:02.000Z"), queued(2)]);
    expect(doc).toMatchObject({ status: "queued", run: 2, attempt: 0 });
  });

  it("does not let progress of an attempt undo its failure", () => {
    const doc = reduce([
      failed(1, "2025-01-01T00:00:03.000Z"),
      progress(1, 4, "2025-01-01T00:00:02.000Z"),
    ]);
    expect(doc.status).toBe("failed");
    expect(doc.error).toEqual(error);
    expect(doc.progress?.seq).toBe(4);
  });

  it("fills the submission fields from a queued event that arrives last, keeping the status", () => {
    const doc = reduce([started(1, "2025-01-01T00:00:01.000Z"), queued()]);
    expect(doc.status).toBe("running");
    expect(doc).toMatchObject({ payload: { to: "a@example.com" }, priority: 5, source: "rest" });
  });

  it("starts over on a replay's queued event and keeps the earlier run's attempts", () => {
    const death = dead(3, "2025-01-01T00:01:00.000Z");
    const doc = reduce([queued(1), failed(3, "2025-01-01T00:00:59.000Z"), death, queued(2)]);
    expect(doc).toMatchObject({ status: "queued", run: 2, attempt: 0, queuedRun: 2 });
    expect(doc.finishedAt).toBeUndefined();
    expect(doc.error).toBeUndefined();
    expect(doc.submittedAt).toBe("2025-01-01T00:00:00.000Z");
    expect(doc.attempts).toHaveLength(1);
  });

  it("shows a scheduled run's runAt until a replay queues a run to start at once, in any order", () => {
    const scheduled: JobEvent = { ...queued(1), runAt: "2025-01-05T12:00:00.000Z" } as QueuedEvent;
    expect(reduce([scheduled]).runAt).toBe("2025-01-05T12:00:00.000Z");
    const death = dead(1, "2025-01-05T12:00:01.000Z");
    for (const order of permutations([scheduled, death, queued(2)])) {
      const doc = reduce(order);
      expect(doc).toMatchObject({ status: "queued", run: 2, queuedRun: 2 });
      expect(doc.runAt).toBeUndefined();
    }
  });

  it("keeps the first submission of a run when a later one of the same id and run differs, in any order", () => {
    // A second submission of the id (another idempotency key) collapses into the first in WORK, but its
    // queued event may be stored once EVENTS' duplicate window has passed.
    const first = queued(1) as QueuedEvent;
    const second: QueuedEvent = {
      ...first,
      at: "2025-01-01T00:10:00.000Z",
      submittedAt: "2025-01-01T00:10:00.000Z",
      payload: { to: "b@example.com" },
      priority: 9,
    };
    const done = succeeded(1, "2025-01-01T00:00:02.000Z");
    const inOrder = reduce([first, done, second]);
    expect(inOrder).toMatchObject({ payload: { to: "a@example.com" }, priority: 5 });
    expect(reduce([second, done, first])).toStrictEqual(inOrder);
    expect(reduce([done, second, first])).toStrictEqual(inOrder);
  });

  it("shows no progress of an earlier run once a replay queued the job again", () => {
    const death = dead(1, "2025-01-01T00:01:00.000Z");
    const firstRun = [queued(1), started(1, "2025-01-01T00:00:01.000Z")];
    const report = progress(1, 9, "2025-01-01T00:00:30.000Z");
    const replayed = reduce([...firstRun, report, death, queued(2)]);
    expect(replayed).toMatchObject({ status: "queued", run: 2 });
    expect(replayed.progress).toBeUndefined();
    expect(reduce([queued(2), report, ...firstRun, death]).progress).toBeUndefined();

    const secondRun = { ...progress(1, 2, "2025-01-02T00:00:05.000Z"), run: 2 };
    expect(reduce([...firstRun, report, death, queued(2), secondRun]).progress).toMatchObject({
      run: 2,
      seq: 2,
    });
  });

  it("records the attempt a dead event ends as failed, with the dead event's error", () => {
    const deadError = { name: "Error", message: "smtp down for good" };
    const death = dead(2, "2025-01-01T00:00:09.000Z", {
      error: deadError,
      reason: "attempts_exhausted",
    });
    const events = [
      queued(),
      started(1, "2025-01-01T00:00:01.000Z"),
      failed(1, "2025-01-01T00:00:02.000Z"),
      started(2, "2025-01-01T00:00:08.000Z"),
      death,
    ];
    const doc = reduce(events);
    expect(doc).toMatchObject({ status: "dead", attempt: 2, error: deadError });
    expect(doc.attempts[1]).toStrictEqual({
      run: 1,
      attempt: 2,
      workerId: "w2",
      startedAt: "2025-01-01T00:00:08.000Z",
      finishedAt: "2025-01-01T00:00:09.000Z",
      outcome: "failed",
      error: deadError,
    });
    expect(reduce([...events].reverse())).toStrictEqual(doc);
  });

  it("prefers an attempt's own failed event over what its dead event says, in any order", () => {
    const death = dead(1, "2025-01-01T00:00:03.000Z", {
      error: { message: "gave up" },
      reason: "non_retryable",
    });
    const events = [
      queued(),
      started(1, "2025-01-01T00:00:01.000Z"),
      failed(1, "2025-01-01T00:00:02.000Z"),
      death,
    ];
    const doc = reduce(events);
    expect(doc.attempts).toStrictEqual([
      {
        run: 1,
        attempt: 1,
        workerId: "w1",
        startedAt: "2025-01-01T00:00:01.000Z",
        finishedAt: "2025-01-01T00:00:02.000Z",
        durationMs: 10,
        outcome: "failed",
        error,
        retryDelayMs: 1000,
      },
    ]);
    expect(reduce([death, ...events.slice(0, 3)])).toStrictEqual(doc);
  });

  it("records the handler's duration, worker and start a worker's dead or cancelled event carries", () => {
    const attemptFacts = {
      attempt: 1,
      durationMs: 42,
      workerId: "w9",
      startedAt: "2025-01-01T00:00:01.000Z",
    };
    const death = dead(attemptFacts.attempt, "2025-01-01T00:00:02.000Z", {
      ...attemptFacts,
      reason: "attempts_exhausted",
    });
    expect(reduce([queued(), death]).attempts).toStrictEqual([
      {
        run: 1,
        attempt: 1,
        workerId: "w9",
        startedAt: "2025-01-01T00:00:01.000Z",
        finishedAt: "2025-01-01T00:00:02.000Z",
        durationMs: 42,
        outcome: "failed",
        error,
      },
    ]);
    const byWorker: JobEvent = {
      ...base,
      ...attemptFacts,
      kind: "cancelled",
      at: "2025-01-01T00:00:03.000Z",
      reason: "cancelled on request",
    };
    // The same cancel recorded without the attempt's facts, earlier: the worker's record says
    // more and wins in either order.
    const events = [queued(), byWorker, cancelled(1, "2025-01-01T00:00:02.000Z")];
    const doc = reduce(events);
    expect(doc.attempts).toStrictEqual([
      {
        run: 1,
        attempt: 1,
        workerId: "w9",
        startedAt: "2025-01-01T00:00:01.000Z",
        finishedAt: "2025-01-01T00:00:03.000Z",
        durationMs: 42,
        outcome: "cancelled",
      },
    ]);
    expect(reduce([...events].reverse())).toStrictEqual(doc);
  });

  it("ends a failed attempt recorded twice by the dispatcher, as dead or cancelled, the same in any order", () => {
    // The attempt's own `failed`, then the dispatcher's record of its end twice (a command or an
    // advisory handled again once the events' duplicate window had passed), at different times.
    const ends = {
      dead: [
        dead(3, "2025-01-01T00:00:02.000Z", { error: { message: "A" }, reason: "max_deliveries" }),
        dead(3, "2025-01-01T00:00:09.000Z", { error: { message: "B" }, reason: "max_deliveries" }),
      ],
      cancelled: [
        { ...cancelled(3, "2025-01-01T00:00:02.000Z"), reason: "A" } as JobEvent,
        { ...cancelled(3, "2025-01-01T00:00:09.000Z"), reason: "B" } as JobEvent,
      ],
    };
    for (const [status, [early, late]] of Object.entries(ends)) {
      const events = [failed(3, "2025-01-01T00:00:01.000Z"), early!, late!];
      const docs = permutations(events).map(reduce);
      for (const doc of docs) expect(doc).toStrictEqual(docs[0]);
      // The earlier end, as of one end recorded twice.
      expect(docs[0]).toMatchObject({ status, finishedAt: "2025-01-01T00:00:02.000Z" });
    }
  });

  it("takes a job's error from the same record as its attempt when two deaths share one time", () => {
    const at = "2025-01-01T00:00:05.000Z";
    const events = [
      dead(2, at, { error: { message: "B" }, reason: "max_deliveries" }),
      dead(2, at, { error: { message: "A" }, reason: "max_deliveries" }),
    ];
    for (const order of permutations(events)) {
      const doc = reduce(order);
      expect(doc.error).toEqual({ message: "A" });
      expect(doc.attempts[0]?.error).toEqual({ message: "A" });
    }
  });

  it("takes a dead job's error and end from the same record as its last attempt, in any order", () => {
    // The dispatcher's record of the death (no handler facts) and the worker's, stored apart.
    const byDispatcher: JobEvent = {
      ...base,
      kind: "dead",
      attempt: 2,
      at: "2025-01-01T00:00:05.000Z",
      error: { message: "max deliveries reached" },
      reason: "max_deliveries",
    };
    const byWorker: JobEvent = {
      ...base,
      kind: "dead",
      attempt: 2,
      at: "2025-01-01T00:00:06.000Z",
      error,
      reason: "attempts_exhausted",
      durationMs: 3,
      workerId: "w2",
      startedAt: "2025-01-01T00:00:04.000Z",
    };
    const events = [queued(), byDispatcher, byWorker];
    const doc = reduce(events);
    expect(doc).toMatchObject({
      status: "dead",
      error,
      reason: "attempts_exhausted",
      finishedAt: "2025-01-01T00:00:06.000Z",
      startedAt: "2025-01-01T00:00:04.000Z",
    });
    expect(doc.attempts).toStrictEqual([
      {
        run: 1,
        attempt: 2,
        workerId: "w2",
        startedAt: "2025-01-01T00:00:04.000Z",
        finishedAt: "2025-01-01T00:00:06.000Z",
        durationMs: 3,
        outcome: "failed",
        error,
      },
    ]);
    expect(reduce([...events].reverse())).toStrictEqual(doc);
  });

  it("adds no attempt for a dead event at attempt 0 (dead-lettered before any delivery)", () => {
    const death = dead(0, "2025-01-01T00:00:03.000Z", {
      error: { message: "invalid payload" },
      reason: "non_retryable",
    });
    expect(reduce([queued(), death]).attempts).toEqual([]);
  });

  it("is idempotent", () => {
    const once = reduce([queued(), started(1, "2025-01-01T00:00:01.000Z")]);
    expect(applyEvent(once, started(1, "2025-01-01T00:00:01.000Z"))).toStrictEqual(once);
    expect(applyEvent(once, queued())).toStrictEqual(once);
  });

  it("normalises event times so that string order is time order", () => {
    const doc = reduce([started(1, "2025-01-01T00:00:01Z"), started(1, "2025-01-01T00:00:00.5Z")]);
    expect(doc.startedAt).toBe("2025-01-01T00:00:00.500Z");
    expect(doc.updatedAt).toBe("2025-01-01T00:00:01.000Z");
  });

  it("refuses an event of another job", () => {
    const doc = reduce([queued()]);
    const other: JobEvent = { ...started(1, "2025-01-01T00:00:01.000Z"), jobId: "job-2" };
    expect(() => applyEvent(doc, other)).toThrow(JobMismatchError);
  });
});

describe("a job replayed again and again", () => {
  // 250 runs of one failed attempt each: each replay adds a run's attempt to the history.
  const at = (run: number) => new Date(Date.UTC(2025, 1, 1, 0, 0, run)).toISOString();
  const events: JobEvent[] = Array.from({ length: 250 }, (_, i) => i + 1).flatMap((run) => [
    { ...base, kind: "started", run, attempt: 1, at: at(run), workerId: "w" },
    { ...failed(1, at(run)), run },
  ]);
  const fold = (list: readonly JobEvent[]) =>
    list.reduce<JobDocument | undefined>((doc, event) => applyEvent(doc, event), undefined);

  it("keeps the newest attempts only, so the document stays storable whatever the replays", () => {
    const doc = fold(events);
    expect(doc?.attempts).toHaveLength(maxAttemptRecords);
    expect(doc?.attempts[0]).toMatchObject({ run: 250 - maxAttemptRecords + 1, attempt: 1 });
    expect(doc?.attempts.at(-1)).toMatchObject({ run: 250, attempt: 1 });
  });

  it("ends in the same document in any order", () => {
    expect(fold([...events].reverse())).toEqual(fold(events));
    const odd = fold(events.filter((_, i) => i % 4 < 2));
    const even = fold(events.filter((_, i) => i % 4 >= 2));
    expect(mergeJobDocuments(odd!, even!)).toEqual(fold(events));
  });
});
