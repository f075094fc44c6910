import type { DeadEvent, JobEvent, ProgressEvent } from "@conveyor/contracts";
import fc from "fast-check";
import { describe, expect, it } from "vitest";

import { applyEvent } from "./apply-event.ts";
import type { JobDocument } from "./documents.ts";
import { mergeJobDocuments } from "./merge-job-documents.ts";

const jobId = "job-p";
const type = "report.build";
const start = Date.parse("2025-03-01T00:00:00.000Z");

/** How one run of a job goes: attempts (each with some progress reports), and how it ends. */
const runShape = fc.record({
  attempts: fc.array(fc.nat({ max: 3 }), { minLength: 1, maxLength: 4 }),
  end: fc.constantFrom("succeeded", "dead"),
  /**
   * Whether the last attempt of a dead run also has a `failed` event, followed by the dispatcher's
   * `dead` (a worker that dead-letters publishes only its own `dead`).
   */
  failedBeforeDead: fc.boolean(),
  /**
   * Whether a worker's `dead` comes with the dispatcher's record of the same death (no handler
   * facts, its own error), stored apart once the duplicate window passed, before or after it.
   */
  deadRecordedTwice: fc.constantFrom("no", "before", "after"),
});

/** The reason of the dispatcher's second record of a death a worker recorded. */
const duplicateDeathReason = "max_deliveries";

/**
 * A realistic history in publication order: per run a `queued`, then per attempt `started`,
 * progress reports and `failed`, and finally `succeeded` or `dead` (whose last attempt may have no
 * `failed` event of its own, as when a worker dead-letters). Every run but the last ends dead (a
 * replay re-queues a dead job).
 */
const history = fc.array(runShape, { minLength: 1, maxLength: 3 }).map((runs) => {
  const events: JobEvent[] = [];
  let clock = start;
  const at = () => new Date((clock += 1000)).toISOString();
  runs.forEach((shape, index) => {
    const run = index + 1;
    const end = index === runs.length - 1 ? shape.end : "dead";
    const common = { jobId, type, run, traceId: `trace-run-${run}` };
    events.push({
      ...common,
      kind: "queued",
      attempt: 0,
      at: at(),
      payload: { run, items: [1, 2, 3] },
      priority: 5,
      maxAttempts: shape.attempts.length,
      submittedAt: at(),
      source: "nats",
    });
    shape.attempts.forEach((reports, i) => {
      const attempt = i + 1;
      const workerId = `worker-${attempt % 2}`;
      const startedAt = at();
      events.push({ ...common, kind: "started", attempt, at: startedAt, workerId });
      for (let seq = 0; seq < reports; seq++) {
        events.push({ ...common, kind: "progress", attempt, at: at(), seq, done: seq, total: 3 });
      }
      const last = attempt === shape.attempts.length;
      if (last && end === "succeeded") {
        events.push({
          ...common,
          kind: "succeeded",
          attempt,
          at: at(),
          result: { rows: attempt },
          durationMs: 5,
          workerId,
        });
        return;
      }
      const error = { name: "Error", message: `attempt ${attempt} failed` };
      if (last && !shape.failedBeforeDead) {
        const byDispatcher = (): JobEvent => ({
          ...common,
          kind: "dead",
          attempt,
          at: at(),
          error: { name: "Error", message: "max deliveries reached" },
          reason: duplicateDeathReason,
        });
        if (shape.deadRecordedTwice === "before") events.push(byDispatcher());
        // A worker's own dead event carries what it knows of the attempt.
        events.push({
          ...common,
          kind: "dead",
          attempt,
          at: at(),
          error,
          reason: "max_attempts",
          durationMs: 6,
          workerId,
          startedAt,
        });
        if (shape.deadRecordedTwice === "after") events.push(byDispatcher());
        return;
      }
      events.push({
        ...common,
        kind: "failed",
        attempt,
        at: at(),
        error,
        durationMs: 7,
        workerId,
        retryDelayMs: 1000 * attempt,
      });
      if (last) {
        events.push({ ...common, kind: "dead", attempt, at: at(), error, reason: "max_attempts" });
        // The dispatcher's death recorded again, later (its advisory handled twice).
        if (shape.deadRecordedTwice !== "no") {
          events.push({
            ...common,
            kind: "dead",
            attempt,
            at: at(),
            error: { name: "Error", message: "recorded again" },
            reason: duplicateDeathReason,
          });
        }
      }
    });
  });
  return events;
});

/**
 * A history whose last run succeeded, after which its work was delivered again (the worker stopped
 * before acknowledging): the later attempts fail, and perhaps one succeeds again.
 */
const redeliveredAfterSuccess = fc
  .tuple(history, fc.nat({ max: 2 }), fc.boolean())
  .filter(([events]) => events.at(-1)?.kind === "succeeded")
  .map(([events, failures, succeedsAgain]) => {
    const success = events.at(-1)!;
    const more: JobEvent[] = [];
    let clock = Date.parse(success.at);
    const at = () => new Date((clock += 1000)).toISOString();
    const common = { jobId, type, run: success.run, traceId: `trace-run-${success.run}` };
    const error = { name: "Error", message: "redelivered" };
    for (let n = 1; n <= failures + 1; n++) {
      const attempt = success.attempt + n;
      const workerId = `worker-r${n}`;
      more.push({ ...common, kind: "started", attempt, at: at(), workerId });
      more.push({
        ...common,
        kind: "failed",
        attempt,
        at: at(),
        error,
        durationMs: 3,
        workerId,
        retryDelayMs: 1000,
      });
    }
    const last = success.attempt + failures + 1;
    if (succeedsAgain) {
      more.push({
        ...common,
        kind: "succeeded",
        attempt: last,
        at: at(),
        result: { again: true },
        durationMs: 4,
        workerId: "worker-again",
      });
    } else {
      more.push({
        ...common,
        kind: "dead",
        attempt: last,
        at: at(),
        error,
        reason: "max_attempts",
      });
    }
    return { events: [...events, ...more], success };
  });

/** The history shuffled, with some events delivered more than once. */
const delivery = history.chain((events) =>
  fc.array(fc.nat({ max: events.length - 1 }), { maxLength: events.length }).chain((dups) => {
    const copies = [...events, ...dups.map((i) => structuredClone(events[i]!))];
    return fc.tuple(
      fc.constant(events),
      fc.shuffledSubarray(copies, { minLength: copies.length, maxLength: copies.length }),
    );
  }),
);

function reduce(events: readonly JobEvent[]): JobDocument {
  const doc = events.reduce<JobDocument | undefined>(applyEvent, undefined);
  if (doc === undefined) throw new Error("no events");
  return doc;
}

describe("applyEvent over random histories", () => {
  it("reduces every permutation with duplicates to the same document", () => {
    fc.assert(
      fc.property(delivery, ([inOrder, delivered]) => {
        expect(reduce(delivered)).toStrictEqual(reduce(inOrder));
      }),
      { numRuns: 500 },
    );
  });

  it("keeps a run's first success whatever its work did when delivered again, in any order", () => {
    fc.assert(
      fc.property(
        redeliveredAfterSuccess.chain(({ events, success }) =>
          fc
            .shuffledSubarray(events, { minLength: events.length, maxLength: events.length })
            .map((delivered) => ({ events, success, delivered })),
        ),
        ({ events, success, delivered }) => {
          const doc = reduce(delivered);
          expect(doc).toStrictEqual(reduce(events));
          expect(doc).toMatchObject({
            status: "succeeded",
            attempt: success.attempt,
            finishedAt: success.at,
          });
        },
      ),
      { numRuns: 300 },
    );
  });

  it("ends in the state the history describes", () => {
    fc.assert(
      fc.property(history, (events) => {
        const doc = reduce(events);
        // A death recorded twice ends where the worker recorded it, with the handler's facts.
        const isDuplicate = (e: JobEvent) => e.kind === "dead" && e.reason === duplicateDeathReason;
        const final = events.filter((e) => !isDuplicate(e)).at(-1)!;
        const lastRun = final.run;
        expect(doc.status).toBe(final.kind);
        expect(doc.run).toBe(lastRun);
        expect(doc.attempt).toBe(final.attempt);
        expect(doc.queuedRun).toBe(lastRun);
        expect(doc.traceId).toBe(`trace-run-${lastRun}`);
        expect(doc.finishedAt).toBe(final.at);
        expect(doc.updatedAt).toBe(events.at(-1)!.at);
        expect(doc.startedAt).toBe(events.find((e) => e.kind === "started")?.at);
        const started = events.filter((e) => e.kind === "started");
        expect(doc.attempts.map((a) => [a.run, a.attempt])).toEqual(
          started.map((e) => [e.run, e.attempt]),
        );
        expect(
          doc.attempts.every((a) => a.outcome !== undefined && a.startedAt !== undefined),
        ).toBe(true);
        // Every attempt ended with a worker's event, which measured the handler.
        expect(doc.attempts.filter((a) => a.durationMs === undefined)).toEqual([]);
        const deaths = events.filter((e): e is DeadEvent => e.kind === "dead" && !isDuplicate(e));
        for (const dead of deaths) {
          const record = doc.attempts.find((a) => a.run === dead.run && a.attempt === dead.attempt);
          expect(record).toMatchObject({ outcome: "failed", error: dead.error });
        }
        // A job's error is that of the record that ended it, as its attempt's is.
        if (final.kind === "dead") expect(doc.error).toStrictEqual(final.error);
        // Progress is the newest report of the job's last run: an earlier run's is not shown.
        const reports = events.filter(
          (e): e is ProgressEvent => e.kind === "progress" && e.run === final.run,
        );
        const newest = reports.at(-1);
        expect(doc.progress?.seq).toBe(newest?.seq);
        expect(doc.progress?.at).toBe(newest?.at);
      }),
      { numRuns: 200 },
    );
  });

  it("merges partial documents in any grouping to the same document", () => {
    fc.assert(
      fc.property(delivery, fc.nat(), ([inOrder, delivered], cut) => {
        const split = 1 + (cut % Math.max(1, delivered.length - 1));
        const left = reduce(delivered.slice(0, split));
        const right = delivered.length > split ? reduce(delivered.slice(split)) : left;
        expect(mergeJobDocuments(right, left)).toStrictEqual(reduce(inOrder));
      }),
      { numRuns: 300 },
    );
  });
});
