import { JetStreamApiError, JetStreamError } from "@nats-io/jetstream";
import type { ApiError, PubAck } from "@nats-io/jetstream";

/**
 * The wire format of JetStream's fast-ingest batches (nats-server 2.14, streams with
 * `allow_batched`): every message of a batch names the batch, its place in it and what it does in
 * its reply subject, `<inbox>.<batch id>.<ack interval>.<gap mode>.<batch seq>.<op>.$FI`, and the
 * server answers on that subject. Each message is stored as it arrives; the server acknowledges
 * the batch as a whole when the last one (the commit) is stored, with one PubAck that counts the
 * messages stored, instead of one PubAck per message.
 */
const suffix = ".$FI";

/** What a message does in its batch: opens it, adds to it, or is the last one and commits it. */
export const FastIngestOp = { Start: 0, Append: 1, Commit: 2 } as const;

/**
 * How many messages the server may let pass between flow acknowledgements: the batches here last
 * one turn of the event loop and are acknowledged by their commit, so flow acknowledgements
 * carry nothing they need; the server still sends some while other batches are open.
 */
const ackInterval = 500;

/** The `err_code` of "batch publish is disabled": the stream does not take batches. */
export const batchPublishDisabledCode = 10205;

/** The reply subject of the `seq`-th (1-based) of `count` messages of batch `batchId`. */
export function fastIngestReply(
  replyPrefix: string,
  batchId: string,
  seq: number,
  count: number,
): string {
  const op =
    seq === count ? FastIngestOp.Commit : seq === 1 ? FastIngestOp.Start : FastIngestOp.Append;
  // Gap mode "fail": a batch that loses a message ends there, and its PubAck counts what is stored.
  return `${replyPrefix}${batchId}.${ackInterval}.fail.${seq}.${op}${suffix}`;
}

/** The batch and place a reply is about, from its subject after the reply prefix; else undefined. */
export function readFastIngestReplySubject(
  rest: string,
): { batchId: string; seq: number } | undefined {
  if (!rest.endsWith(suffix)) return undefined;
  const tokens = rest.split(".");
  // <batch id>.<ack interval>.<gap mode>.<seq>.<op>.$FI
  if (tokens.length !== 6) return undefined;
  const seq = Number(tokens[3]);
  if (!Number.isInteger(seq) || seq < 1) return undefined;
  return { batchId: tokens[0] ?? "", seq };
}

/** What one reply to a batch's message says. */
export type BatchReply =
  /** Flow control or a gap report: nothing to settle (gaps end the batch, its PubAck follows). */
  | { kind: "progress" }
  /** The message at this place was refused; the batch is committed before it (its PubAck follows). */
  | { kind: "refused-in-batch"; error: Error }
  /** The batch is over: `count` messages from its start are stored, the last at stream `seq`. */
  | { kind: "committed"; stream: string; seq: number; count: number; duplicate: boolean }
  /** A plain PubAck: the server stored this message as a message of its own (no batching there). */
  | { kind: "stored"; ack: PubAck }
  /** An error answered as to a plain publish: the batch is not open (or never was) on the server. */
  | { kind: "refused"; error: Error; batchingDisabled: boolean }
  /** A status without a body (503: no stream captures the subject) or an unreadable reply. */
  | { kind: "failed"; error: Error };

interface ReplyBody {
  type?: string;
  stream?: string;
  seq?: number;
  duplicate?: boolean;
  batch?: string;
  count?: number;
  domain?: string;
  error?: ApiError;
}

const decoder = new TextDecoder();

/** How nats-server starts a flow acknowledgement (`{"type":"ack","seq":..,"msgs":..}`). */
const flowAckStart = new TextEncoder().encode('{"type":"ack"');

function startsWith(data: Uint8Array, prefix: Uint8Array): boolean {
  if (data.length < prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) if (data[i] !== prefix[i]) return false;
  return true;
}

/**
 * Reads the body of a reply to a message of a batch; `statusError` is what an empty body (a
 * status such as 503, no stream captures the subject) stands for.
 */
export function readBatchReply(data: Uint8Array, statusError: () => Error): BatchReply {
  if (data.length === 0) return { kind: "failed", error: statusError() };
  // Flow acknowledgements are most replies of a long batch, and need no parsing.
  if (startsWith(data, flowAckStart)) return { kind: "progress" };
  let body: ReplyBody;
  try {
    body = JSON.parse(decoder.decode(data)) as ReplyBody;
  } catch (err) {
    return { kind: "failed", error: new JetStreamError("invalid ack response", { cause: err }) };
  }
  if (body.type === "ack" || body.type === "gap") return { kind: "progress" };
  if (body.type === "err") {
    const error = body.error
      ? new JetStreamApiError(body.error)
      : new JetStreamError("batch message refused without a reason");
    return { kind: "refused-in-batch", error };
  }
  if (body.error) {
    const batchingDisabled = body.error.err_code === batchPublishDisabledCode;
    return { kind: "refused", error: new JetStreamApiError(body.error), batchingDisabled };
  }
  if (typeof body.stream !== "string" || body.stream === "" || typeof body.seq !== "number") {
    return { kind: "failed", error: new JetStreamError("invalid ack response") };
  }
  if (typeof body.batch === "string" && typeof body.count === "number") {
    const { stream, seq, count } = body;
    return { kind: "committed", stream, seq, count, duplicate: body.duplicate === true };
  }
  const ack: PubAck = { stream: body.stream, seq: body.seq, duplicate: body.duplicate === true };
  if (body.domain !== undefined) ack.domain = body.domain;
  return { kind: "stored", ack };
}
