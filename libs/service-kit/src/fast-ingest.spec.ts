import { JetStreamApiError, JetStreamError } from "@nats-io/jetstream";
import { describe, expect, it } from "vitest";

import {
  FastIngestOp,
  batchPublishDisabledCode,
  fastIngestReply,
  readBatchReply,
  readFastIngestReplySubject,
} from "./fast-ingest.ts";

const body = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));
const noStatus = () => new Error("status");

describe("fastIngestReply", () => {
  const prefix = "_INBOX.abc.";
  const opOf = (seq: number, count: number) =>
    Number(fastIngestReply(prefix, "b-1", seq, count).split(".").at(-2));

  it("opens the batch with its first message, adds the middle ones and commits with the last", () => {
    expect([1, 2, 3, 4].map((seq) => opOf(seq, 4))).toEqual([
      FastIngestOp.Start,
      FastIngestOp.Append,
      FastIngestOp.Append,
      FastIngestOp.Commit,
    ]);
  });

  it("asks the server to end the batch at a lost message (gap mode fail)", () => {
    expect(fastIngestReply(prefix, "b-1", 2, 3)).toMatch(
      /^_INBOX\.abc\.b-1\.\d+\.fail\.2\.1\.\$FI$/,
    );
  });

  it("is read back as the batch and the place it names", () => {
    const reply = fastIngestReply(prefix, "n7x-12", 3, 9);
    expect(readFastIngestReplySubject(reply.substring(prefix.length))).toEqual({
      batchId: "n7x-12",
      seq: 3,
    });
  });

  it("reads a reply to a publish of its own as no batch's", () => {
    expect(readFastIngestReplySubject("42")).toBeUndefined();
    expect(readFastIngestReplySubject("b-1.500.fail.0.1.$FI")).toBeUndefined();
    expect(readFastIngestReplySubject("x.$FI")).toBeUndefined();
  });
});

describe("readBatchReply", () => {
  it("passes over flow acknowledgements and gap reports", () => {
    expect(readBatchReply(body({ type: "ack", seq: 10, msgs: 20 }), noStatus)).toEqual({
      kind: "progress",
    });
    expect(readBatchReply(body({ type: "gap", last_seq: 3, seq: 5 }), noStatus)).toEqual({
      kind: "progress",
    });
  });

  it("reads the batch's PubAck as the count of messages stored and the last one's sequence", () => {
    const reply = readBatchReply(
      body({ stream: "EVENTS", seq: 88, batch: "b-1", count: 4 }),
      noStatus,
    );
    expect(reply).toEqual({
      kind: "committed",
      stream: "EVENTS",
      seq: 88,
      count: 4,
      duplicate: false,
    });
  });

  it("reads a message refused inside the batch as the stream's error for it", () => {
    const error = {
      code: 400,
      err_code: 10054,
      description: "message size exceeds maximum allowed",
    };
    const reply = readBatchReply(body({ type: "err", seq: 3, error }), noStatus);
    expect(reply.kind).toBe("refused-in-batch");
    if (reply.kind === "refused-in-batch") {
      expect(reply.error).toBeInstanceOf(JetStreamApiError);
      expect(reply.error).toMatchObject({ code: 10054 });
    }
  });

  it("tells a stream that takes no batches from other refusals", () => {
    const disabled = readBatchReply(
      body({
        stream: "JOBS",
        error: {
          code: 400,
          err_code: batchPublishDisabledCode,
          description: "batch publish is disabled",
        },
      }),
      noStatus,
    );
    expect(disabled).toMatchObject({ kind: "refused", batchingDisabled: true });
    const unknown = readBatchReply(
      body({
        stream: "JOBS",
        error: { code: 400, err_code: 10208, description: "batch publish ID unknown" },
      }),
      noStatus,
    );
    expect(unknown).toMatchObject({ kind: "refused", batchingDisabled: false });
  });

  it("reads a plain PubAck as a message stored on its own (a server without batches)", () => {
    expect(readBatchReply(body({ stream: "WORK", seq: 5, duplicate: true }), noStatus)).toEqual({
      kind: "stored",
      ack: { stream: "WORK", seq: 5, duplicate: true },
    });
  });

  it("fails a message on an empty reply (a status) or an unreadable one", () => {
    const status = new Error("no responders");
    expect(readBatchReply(new Uint8Array(), () => status)).toEqual({
      kind: "failed",
      error: status,
    });
    const garbled = readBatchReply(new TextEncoder().encode("{nope"), noStatus);
    expect(garbled.kind).toBe("failed");
    if (garbled.kind === "failed") expect(garbled.error).toBeInstanceOf(JetStreamError);
    expect(readBatchReply(body({ stream: "", seq: 1 }), noStatus).kind).toBe("failed");
  });
});
