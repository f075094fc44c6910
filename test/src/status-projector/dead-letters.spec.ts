import { ConsumerName, StreamName, Subject } from "@conveyor/contracts";
import { findDeadLetter, listDeadLetters } from "@conveyor/read-model";
import { beforeEach, describe, expect, it } from "vitest";

import { deadLetter, logEntry, publishLetter, settleLetter } from "./dead-letters.ts";
import {
  startProjector,
  storedDeadLetters,
  useProjectorServers,
  waitForDeadLetter,
  waitUntilDrained,
  withoutRevision,
} from "./projector-fixture.ts";

describe("dead-letter projection", () => {
  const fx = useProjectorServers("dead-letters");

  // Every test here reads what a running projector made of the letters it publishes.
  beforeEach(async () => {
    fx.projector = await startProjector(fx.js, fx.db);
  });

  const drained = () => waitUntilDrained(fx.jsm, ConsumerName.ProjectorDeadLetters, StreamName.Dlq);

  it("projects a published dead letter into its job's document, at its DLQ sequence", async () => {
    const payload = { "user.name": "ada", $meta: { "50%": true }, rows: [["a", 1], []] };
    const letter = deadLetter("job-a", { type: "email.send", payload });
    const seq = await publishLetter(fx.js, letter);

    const doc = await waitForDeadLetter(fx.db, "job-a");
    expect(doc).toStrictEqual({
      revision: 1,
      _id: "job-a",
      jobId: "job-a",
      type: "email.send",
      run: 1,
      state: "dead",
      source: { stream: "DLQ", subject: "dlq.email.send", seq },
      attempts: 2,
      reason: "attempts_exhausted",
      error: { name: "Error", message: "run 1 of job-a failed" },
      deadAt: "2026-01-01T10:01:00.000Z",
      workerId: "worker-1",
      traceId: "trace-job-a-1",
      workItem: letter.workItem,
      workSource: { stream: "WORK", subject: "work.email.send", seq: 101 },
      log: [],
    });
    expect((await listDeadLetters(fx.db, { limit: 10 })).items.map((d) => d._id)).toEqual([
      "job-a",
    ]);
    // The payload is stored with escaped keys and wrapped arrays in arrays, and read back as published.
    expect(JSON.stringify(await storedDeadLetters(fx.db))).not.toContain("user.name");
  });

  it("marks a letter replayed or discarded from the dead-letter log, and opens it again when the replay dies", async () => {
    const replayedLetter = deadLetter("job-r");
    const discardedLetter = deadLetter("job-d");
    const replayedSeq = await publishLetter(fx.js, replayedLetter);
    const discardedSeq = await publishLetter(fx.js, discardedLetter);
    await waitForDeadLetter(fx.db, "job-d");

    await settleLetter(fx.js, fx.jsm, logEntry(replayedLetter, "replayed", replayedSeq));
    await settleLetter(
      fx.js,
      fx.jsm,
      logEntry(discardedLetter, "discarded", discardedSeq, "2026-01-01T12:00:00Z"),
    );
    const replayed = await waitForDeadLetter(fx.db, "job-r", (d) => d.state !== "dead");
    expect(withoutRevision(replayed)).toStrictEqual({
      _id: "job-r",
      jobId: "job-r",
      type: "report.build",
      run: 1,
      state: "replayed",
      source: { stream: "DLQ", subject: "dlq.report.build", seq: replayedSeq },
      settledAt: "2026-01-01T11:00:00.000Z",
      log: [
        {
          action: "replayed",
          type: "report.build",
          run: 1,
          seq: replayedSeq,
          at: "2026-01-01T11:00:00.000Z",
          requestedAt: "2026-01-01T11:00:00.000Z",
          replayRun: 2,
        },
      ],
    });
    const discarded = await waitForDeadLetter(fx.db, "job-d", (d) => d.state !== "dead");
    expect(discarded).toMatchObject({
      state: "discarded",
      settledAt: "2026-01-01T12:00:00.000Z",
      log: [{ action: "discarded", reason: "obsolete" }],
    });
    const ids = async (state?: "dead" | "replayed" | "discarded") =>
      (await listDeadLetters(fx.db, { state, limit: 10 })).items.map((d) => d._id);
    expect(await ids()).toEqual([]);
    expect(await ids("replayed")).toEqual(["job-r"]);
    expect(await ids("discarded")).toEqual(["job-d"]);

    const secondSeq = await publishLetter(fx.js, deadLetter("job-r", { run: 2 }));
    const reopened = await waitForDeadLetter(fx.db, "job-r", (d) => d.run === 2);
    expect(reopened).toMatchObject({ state: "dead", source: { seq: secondSeq } });
    expect(reopened.log.map((r) => [r.run, r.action])).toEqual([[1, "replayed"]]);
    expect(await ids()).toEqual(["job-r"]);
  });

  it("acknowledges and skips invalid DLQ messages without losing the valid ones around them", async () => {
    const letter = deadLetter("job-valid");
    await fx.js.publish(Subject.dlq("report.build"), "{not json");
    await fx.js.publish(Subject.dlq("email.send"), JSON.stringify(deadLetter("job-wrong-type")));
    await fx.js.publish(
      Subject.deadLetterLog("job-other"),
      JSON.stringify(logEntry(letter, "discarded", 1)),
    );
    await fx.js.publish(Subject.dlq("report.build"), JSON.stringify({ ...letter, attempts: -1 }));
    await publishLetter(fx.js, letter);
    await drained();

    expect((await storedDeadLetters(fx.db)).map((d) => d._id)).toEqual(["job-valid"]);
    expect(await findDeadLetter(fx.db, "job-other")).toBeNull();
    const info = await fx.jsm.consumers.info(StreamName.Dlq, ConsumerName.ProjectorDeadLetters);
    expect(info.ack_floor.stream_seq).toBe(5);
  });
});
