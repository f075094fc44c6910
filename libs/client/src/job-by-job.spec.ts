import { describe, expect, it } from "vitest";

import { bulkMessages } from "./bulk-messages.ts";
import type { BulkJob, BulkMessage } from "./bulk-messages.ts";
import { sendBulkOrJobByJob } from "./job-by-job.ts";

function jobs(...ids: string[]): BulkJob[] {
  return ids.map((id, index) => ({ index, id, type: "echo", json: `{"id":"${id}"}` }));
}

function onlyMessage(list: BulkJob[]): BulkMessage {
  const [message] = bulkMessages(list, Infinity);
  if (message === undefined) throw new Error("no message");
  return message;
}

/** A stream that stores messages of at most `maxJobs` jobs and refuses larger ones for their size. */
function streamOf(maxJobs: number) {
  const sent: string[][] = [];
  const send = (message: BulkMessage) => {
    const ids = message.jobs.map((job) => job.id);
    sent.push(ids);
    const stored = ids.length <= maxJobs;
    return Promise.resolve(ids.map((id) => ({ id, stored })));
  };
  return { sent, send };
}

const allRefused = (outcomes: readonly { stored: boolean }[]) =>
  outcomes.every((outcome) => !outcome.stored);

describe("sendBulkOrJobByJob", () => {
  it("sends a bulk once when it is stored", async () => {
    const stream = streamOf(3);
    const outcomes = await sendBulkOrJobByJob(onlyMessage(jobs("a", "b")), stream.send, allRefused);
    expect(stream.sent).toEqual([["a", "b"]]);
    expect(outcomes).toEqual([
      { id: "a", stored: true },
      { id: "b", stored: true },
    ]);
  });

  it("sends each job of a bulk refused for its size in a bulk of its own, in the bulk's order", async () => {
    const stream = streamOf(1);
    const outcomes = await sendBulkOrJobByJob(
      onlyMessage(jobs("a", "b", "c")),
      stream.send,
      allRefused,
    );
    expect(stream.sent).toEqual([["a", "b", "c"], ["a"], ["b"], ["c"]]);
    expect(outcomes).toEqual([
      { id: "a", stored: true },
      { id: "b", stored: true },
      { id: "c", stored: true },
    ]);
  });

  it("does not send a refused bulk of one job again", async () => {
    const stream = streamOf(0);
    const outcomes = await sendBulkOrJobByJob(onlyMessage(jobs("a")), stream.send, allRefused);
    expect(stream.sent).toEqual([["a"]]);
    expect(outcomes).toEqual([{ id: "a", stored: false }]);
  });

  it("keeps a bulk's own message id for each job sent alone, drawn from that job's id", async () => {
    const stream = streamOf(1);
    const msgIds: string[] = [];
    await sendBulkOrJobByJob(
      onlyMessage(jobs("a", "b")),
      (message) => {
        msgIds.push(message.msgID);
        return stream.send(message);
      },
      allRefused,
    );
    const [, first, second] = msgIds;
    expect(first).toBe(onlyMessage(jobs("a")).msgID);
    expect(second).not.toBe(first);
  });
});
