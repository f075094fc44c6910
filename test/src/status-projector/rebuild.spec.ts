import { ConsumerName, StreamName, Subject } from "@conveyor/contracts";
import type { DeadLetter, DeadLetterLogEntry, JobEvent, RejectedEvent } from "@conveyor/contracts";
import { applyEvent, toStoredDeadLetter, toStoredJob } from "@conveyor/read-model";
import type { JobDocument } from "@conveyor/read-model";
import { uniqueName } from "@conveyor/testing";
import { describe, expect, it } from "vitest";

import {
  deadLetter,
  logEntry,
  publishLetter,
  reduceDeadLetters,
  settleLetter,
} from "./dead-letters.ts";
import { jobHistory, publishEvents, rejection, shuffledWithDuplicates } from "./events.ts";
import {
  addDeadLetterConsumer,
  addProjectorConsumer,
  resetTopology,
  startProjector,
  storedDeadLetters,
  storedJobs,
  storedRejections,
  useServers,
  waitUntilDrained,
  withoutRevision,
} from "./projector-fixture.ts";

/** Thirty jobs in every shape (retries, dead, replayed, odd payload keys) and three rejections. */
function workload(): (JobEvent | RejectedEvent)[] {
  const histories = Array.from({ length: 30 }, (_, i) =>
    jobHistory(
      `job-${String(i).padStart(2, "0")}`,
      {
        type: i % 2 === 0 ? "report.build" : "email.send",
        failures: i % 4,
        reports: i % 3,
        end: i % 5 === 0 ? "dead" : "succeeded",
        runs: i % 7 === 0 ? 2 : 1,
        payload: i % 6 === 0 ? { "dotted.key": i, "nul\u0000key": { $i: i } } : { i },
        ...(i % 3 === 0 ? { batchId: "batch-a" } : {}),
      },
      Date.UTC(2025, 0, 1) + i * 60_000,
    ),
  );
  // Interleave the jobs as concurrent workers would, then scramble and repeat some events.
  const interleaved = histories
    .flatMap((h) => h.map((event, i) => ({ event, i })))
    .sort((a, b) => a.i - b.i);
  const rejections = [0, 1, 2].map((i) => rejection(`rej-${i}`, `2025-01-02T00:00:0${i}.000Z`));
  return [
    ...shuffledWithDuplicates(
      interleaved.map((x) => x.event),
      42,
    ),
    ...rejections,
  ];
}

describe("rebuilding the read model from the events stream", () => {
  const servers = useServers();

  it("replays the whole stream into an empty database and gets identical documents", async () => {
    const { js, jsm, client } = servers;
    await resetTopology(jsm);
    const events = workload();
    await publishEvents(js, events);
    await js.publish(Subject.event("job-00", "started"), "not an event");
    // A result nested far deeper than a document may be: skipped, by the live projector and the rebuild alike.
    await js.publish(
      Subject.event("job-01", "succeeded"),
      JSON.stringify({
        ...events.find((e) => e.kind === "succeeded"),
        jobId: "job-01",
        result: 0,
      }).replace('"result":0', `"result":${"[".repeat(5000)}0${"]".repeat(5000)}`),
    );

    const live = client.db(uniqueName("live"));
    const first = await startProjector(js, live);
    await waitUntilDrained(jsm);
    await first.stop();

    const rebuilt = client.db(uniqueName("rebuilt"));
    expect(await storedJobs(rebuilt)).toEqual([]);
    await addProjectorConsumer(jsm, "status-projector-rebuild");
    const second = await startProjector(js, rebuilt, {
      batchSize: 7,
      consumer: "status-projector-rebuild",
    });
    await waitUntilDrained(jsm, "status-projector-rebuild");
    await second.stop();

    const jobs = (await storedJobs(live)).map(withoutRevision);
    expect(jobs).toHaveLength(30);
    expect((await storedJobs(rebuilt)).map(withoutRevision)).toStrictEqual(jobs);
    expect(await storedRejections(rebuilt)).toStrictEqual(await storedRejections(live));
    expect(await storedRejections(rebuilt)).toHaveLength(3);

    // Both equal what the reducer makes of each job's events, in publication order.
    const expected = new Map<string, JobDocument>();
    for (const event of events) {
      if (event.kind !== "rejected")
        expected.set(event.jobId, applyEvent(expected.get(event.jobId), event));
    }
    const byId = [...expected.values()].sort((a, b) => a._id.localeCompare(b._id)).map(toStoredJob);
    expect(jobs).toStrictEqual(byId);
  });

  it("rebuilds the same dead-letter documents from the DLQ stream, though settled letters are gone", async () => {
    const { js, jsm, client } = servers;
    await resetTopology(jsm);
    const live = client.db(uniqueName("live-dlq"));
    const first = await startProjector(js, live);
    const drained = (consumer: string) => waitUntilDrained(jsm, consumer, StreamName.Dlq);

    // Twelve jobs die; one letter names no job; two letters are published twice (a worker and the
    // dispatcher after the duplicate window); one message is not a letter.
    const published: ({ letter: DeadLetter; seq: number } | { entry: DeadLetterLogEntry })[] = [];
    const publish = async (letter: DeadLetter) => {
      published.push({ letter, seq: await publishLetter(js, letter) });
    };
    const firstRun = Array.from({ length: 12 }, (_, i) =>
      deadLetter(`job-${String(i).padStart(2, "0")}`, {
        type: i % 2 === 0 ? "report.build" : "email.send",
        payload: i % 3 === 0 ? { "dotted.key": i, "nul\u0000key": i } : { i },
      }),
    );
    for (const letter of firstRun) await publish(letter);
    for (const letter of firstRun.slice(0, 2)) {
      const again = { ...letter, workerId: undefined };
      published.push({
        letter: again,
        seq: (await js.publish(Subject.dlq(again.type), JSON.stringify(again))).seq,
      });
    }
    await publish({
      ...deadLetter("ignored"),
      jobId: undefined,
      run: undefined,
      workItem: undefined,
      rawPreview: "{",
    });
    await js.publish(Subject.dlq("report.build"), "not a letter");
    await drained(ConsumerName.ProjectorDeadLetters);

    // The dispatcher replays four jobs (two of which die again) and discards three; the live
    // projector has seen their letters, a rebuild will not.
    const seqOf = (jobId: string) =>
      Math.max(
        ...published.flatMap((p) => ("letter" in p && p.letter.jobId === jobId ? [p.seq] : [])),
      );
    for (const [i, letter] of firstRun.slice(0, 7).entries()) {
      const entry = logEntry(
        letter,
        i < 4 ? "replayed" : "discarded",
        seqOf(letter.jobId!),
        `2026-01-01T11:0${i}:00.000Z`,
      );
      await settleLetter(js, jsm, entry);
      published.push({ entry });
    }
    for (const letter of firstRun.slice(0, 2)) {
      await publish(deadLetter(letter.jobId!, { type: letter.type, run: 2 }));
    }
    await drained(ConsumerName.ProjectorDeadLetters);
    await first.stop();

    const rebuilt = client.db(uniqueName("rebuilt-dlq"));
    await addDeadLetterConsumer(jsm, "status-projector-dlq-rebuild");
    const second = await startProjector(js, rebuilt, {
      batchSize: 3,
      deadLetterConsumer: "status-projector-dlq-rebuild",
    });
    await drained("status-projector-dlq-rebuild");
    await second.stop();

    const docs = (await storedDeadLetters(live)).map(withoutRevision);
    expect(docs).toHaveLength(13);
    expect((await storedDeadLetters(rebuilt)).map(withoutRevision)).toStrictEqual(docs);
    expect(docs.map((d) => d.state).sort()).toEqual([
      ...Array<string>(8).fill("dead"),
      ...Array<string>(3).fill("discarded"),
      ...Array<string>(2).fill("replayed"),
    ]);

    // Both equal what the reducer makes of every message ever published, deleted letters included.
    const byJob = Map.groupBy(published, (message) =>
      "entry" in message
        ? message.entry.jobId
        : (message.letter.jobId ?? `WORK:${message.letter.source.seq}`),
    );
    const expected = [...byJob.values()].map((messages) => reduceDeadLetters(messages)!);
    expect(docs).toStrictEqual(
      // Byte order, as the server sorts `_id`.
      expected.sort((a, b) => (a._id < b._id ? -1 : 1)).map(toStoredDeadLetter),
    );
  });
});
