import fc from "fast-check";
import { describe, expect, it } from "vitest";

import { applyDeadLetterFact } from "./dead-letter-fact.ts";
import type { DeadLetterFact } from "./dead-letter-fact.ts";
import type { DeadLetterDocument } from "./dead-letter-document.ts";
import { mergeDeadLetters } from "./merge-dead-letters.ts";

const jobId = "job-p";
const type = "report.build";
const start = Date.parse("2026-02-01T00:00:00.000Z");

/**
 * A job's `DLQ` history in publication order: each run dies (a letter, sometimes published twice
 * as when worker and dispatcher both dead-letter it after the duplicate window); every run but the
 * last is replayed; the last stays dead, is replayed (its next run not dead yet) or is discarded.
 * Returns the facts and the sequences of the letters the dispatcher deleted.
 */
const history = fc
  .record({
    runs: fc.integer({ min: 1, max: 3 }),
    doubled: fc.array(fc.boolean(), { minLength: 3, maxLength: 3 }),
    end: fc.constantFrom("dead", "replayed", "discarded"),
  })
  .map(({ runs, doubled, end }) => {
    const facts: DeadLetterFact[] = [];
    const deleted = new Set<number>();
    let seq = 0;
    let clock = start;
    const at = () => new Date((clock += 1000)).toISOString();
    for (let run = 1; run <= runs; run++) {
      const copies = doubled[run - 1] ? 2 : 1;
      let letterSeq = 0;
      for (let copy = 0; copy < copies; copy++) {
        letterSeq = ++seq;
        facts.push({
          kind: "letter",
          position: { stream: "DLQ", subject: `dlq.${type}`, seq: letterSeq },
          letter: {
            type,
            jobId,
            run,
            error: { message: `run ${run} copy ${copy}` },
            reason: "attempts_exhausted",
            attempts: 3,
            deadAt: at(),
            source: { stream: "WORK", subject: `work.${type}`, seq: run * 100 + copy },
            workerId: `w-${copy}`,
          },
        });
      }
      const action = run < runs ? "replayed" : end;
      if (action === "dead") continue;
      seq++;
      const when = at();
      facts.push({
        kind: "log",
        entry: {
          action,
          jobId,
          type,
          run,
          seq: letterSeq,
          at: when,
          requestedAt: when,
          ...(action === "replayed" ? { replayRun: run + 1 } : {}),
        },
      });
      deleted.add(letterSeq);
    }
    return { facts, deleted, runs, end };
  });

/** The history shuffled, with some messages delivered more than once. */
const delivery = history.chain((h) =>
  fc.array(fc.nat({ max: h.facts.length - 1 }), { maxLength: h.facts.length }).chain((dups) => {
    const copies = [...h.facts, ...dups.map((i) => structuredClone(h.facts[i]!))];
    return fc.tuple(
      fc.constant(h),
      fc.shuffledSubarray(copies, { minLength: copies.length, maxLength: copies.length }),
    );
  }),
);

function reduce(facts: readonly DeadLetterFact[]): DeadLetterDocument {
  const doc = facts.reduce<DeadLetterDocument | undefined>(applyDeadLetterFact, undefined);
  if (doc === undefined) throw new Error("no facts");
  return doc;
}

describe("applyDeadLetterFact over random histories", () => {
  it("reduces every permutation with duplicates to the same document", () => {
    fc.assert(
      fc.property(delivery, ([h, delivered]) => {
        expect(reduce(delivered)).toStrictEqual(reduce(h.facts));
      }),
      { numRuns: 500 },
    );
  });

  it("gives the same document without the letters the dispatcher deleted (a rebuild)", () => {
    fc.assert(
      fc.property(history, (h) => {
        const kept = h.facts.filter((f) => f.kind === "log" || !h.deleted.has(f.position.seq));
        expect(reduce(kept)).toStrictEqual(reduce(h.facts));
      }),
      { numRuns: 300 },
    );
  });

  it("ends in the state the history describes", () => {
    fc.assert(
      fc.property(history, ({ facts, runs, end }) => {
        const doc = reduce(facts);
        expect(doc.state).toBe(end);
        expect(doc.run).toBe(runs);
        const letters = facts.filter((f) => f.kind === "letter");
        expect(doc.source.seq).toBe(letters.at(-1)?.position.seq);
        expect(doc.log.map((r) => r.run)).toEqual(
          Array.from({ length: end === "dead" ? runs - 1 : runs }, (_, i) => i + 1),
        );
      }),
      { numRuns: 200 },
    );
  });

  it("merges partial documents in any grouping to the same document", () => {
    fc.assert(
      fc.property(delivery, fc.nat(), ([h, delivered], cut) => {
        const split = 1 + (cut % Math.max(1, delivered.length - 1));
        const left = reduce(delivered.slice(0, split));
        const right = delivered.length > split ? reduce(delivered.slice(split)) : left;
        expect(mergeDeadLetters(right, left)).toStrictEqual(reduce(h.facts));
      }),
      { numRuns: 300 },
    );
  });
});
