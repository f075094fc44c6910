import { JetStreamApiError, JetStreamError, PubHeaders } from "@nats-io/jetstream";
import type { ApiError, PubAck } from "@nats-io/jetstream";
import {
  ClosedConnectionError,
  NoRespondersError,
  PermissionViolationError,
  RequestError,
  TimeoutError,
  createInbox,
} from "@nats-io/transport-node";
import type { Msg, MsgHdrs, NatsConnection, Status } from "@nats-io/transport-node";

import { ChurnTable } from "./churn-table.ts";
import { PublisherClosedError, RepliesRefusedError } from "./errors.ts";
import { outgoingHeaders } from "./outgoing-headers.ts";

/** Options of one {@link JetStreamPublisher.publish}; a subset of nats.js's `JetStreamPublishOptions`. */
export interface JetStreamPublishOptions {
  /** `Nats-Msg-Id`: a message with an id the stream has seen within its duplicate window is stored once. */
  msgID?: string;
  /** Headers to send; the publisher adds its `Nats-*` headers to this object, like nats.js does. */
  headers?: MsgHdrs;
  /** How long to wait for the stream's acknowledgement, in milliseconds. @default the publisher's `timeoutMs` */
  timeout?: number;
  /** Conditions the stream checks before storing; a mismatch rejects with a {@link JetStreamApiError}. */
  expect?: {
    /** `Nats-Expected-Stream`: the stream that must capture the subject. */
    streamName?: string;
  };
}

/** Options of a {@link JetStreamPublisher}. */
export interface JetStreamPublisherOptions {
  /** Default wait for an acknowledgement, in milliseconds (nats.js's default). @default 5000 */
  timeoutMs?: number;
  /**
   * How often expired publishes are looked for, in milliseconds; a publish times out up to this
   * much after its timeout. @default 100
   */
  timeoutCheckMs?: number;
  /**
   * Prefix of the reply subject acknowledgements come back on (an account may allow replies only
   * under one). @default the connection's own `inboxPrefix`, else `_INBOX`
   */
  inboxPrefix?: string;
  /**
   * Told when a function given to {@link JetStreamPublisher.defer} throws (an `ack()` on a closed
   * connection); the rest of the batch is sent regardless. @default ignore it
   */
  onDeferredError?: (err: unknown) => void;
}

/** A publish queued for the end of the event loop's turn. */
interface Outgoing {
  subject: string;
  data: string | Uint8Array;
  token: string;
  headers: MsgHdrs | undefined;
}

/** What a {@link JetStreamPublisher.publishWithdrawable} builds when its turn's publishes leave. */
export interface OutgoingMessage {
  subject: string;
  data: string | Uint8Array;
  options?: JetStreamPublishOptions;
}

/** A publish that can be taken back while it has not left the client. */
export interface WithdrawablePublish {
  /** The stream's acknowledgement; `undefined` once withdrawn. Rejects like `publish`. */
  acked: Promise<PubAck | undefined>;
  /**
   * Takes the message back if it is still queued (not yet built and written to the socket): it is
   * never sent and `acked` resolves with `undefined`. Returns whether it was taken back.
   */
  withdraw(): boolean;
}

/** A publish waiting for its acknowledgement. */
interface Pending {
  subject: string;
  /**
   * `performance.now()` after which it times out, in milliseconds: a monotonic clock, so that a
   * wall clock set back (NTP, a restored snapshot) does not hold a publish for that long.
   */
  deadline: number;
  /** Whether it has been handed to the connection (a refusal can be its answer only then). */
  written: boolean;
  resolve: (ack: PubAck) => void;
  reject: (err: Error) => void;
}

const decoder = new TextDecoder();

/**
 * Publishes to JetStream and resolves with the stream's acknowledgement, like nats.js's
 * `js.publish`, but pipelined: every publish is a plain `nc.publish` with a reply subject under
 * one wildcard inbox subscription, and ONE interval timer expires overdue publishes. nats.js makes
 * each `js.publish` a full request (a timer and, on success, a discarded `RequestError` each), which
 * costs several percent of a busy service's CPU.
 *
 * Publishes are written at the end of the event loop's turn (`setImmediate`), all of a turn's
 * together: nats.js writes to the socket once per microtask flush, and work that resolves in
 * different microtasks would otherwise cost a socket write each. {@link defer} puts other sends
 * (acknowledgements of consumed messages) into the same write. Close the publisher before
 * draining its connection, so that nothing queued is left behind.
 *
 * Errors are nats.js's own, so existing checks keep working:
 * - the stream refused the message (duplicate checks aside): {@link JetStreamApiError} with the
 *   API's `code`/`err_code`/`description` (e.g. 10054 message too large, 10060 wrong stream);
 * - no stream captures the subject: `RequestError` whose `cause` is a `NoRespondersError`
 *   (`isNoResponders()` is true);
 * - no acknowledgement in time: `TimeoutError`; the message may still have been stored;
 * - the client refused the publish (over `max_payload`, a bad subject): `InvalidArgumentError`
 *   or `InvalidSubjectError`, as a rejection;
 * - the connection closed first: `ClosedConnectionError`; after {@link close}: {@link PublisherClosedError};
 * - the server refused the publish (the connection's user may not publish to the subject): its
 *   `PermissionViolationError`, at once; nothing was stored;
 * - the server refused the subscription for acknowledgements (permissions on the inbox): its
 *   `PermissionViolationError` for the publishes already sent, then {@link RepliesRefusedError}
 *   (nothing sent).
 */
export class JetStreamPublisher {
  readonly #nc: NatsConnection;
  readonly #timeoutMs: number;
  /** `<inbox>.`: replies arrive at `<inbox>.<token>`. */
  readonly #replyPrefix: string;
  /** By token; a `ChurnTable`, as every publish adds one and its acknowledgement removes it. */
  readonly #pending = new ChurnTable<Pending>();
  readonly #timer: NodeJS.Timeout;
  readonly #unsubscribe: () => void;
  /** Stops following the connection's status (its refusals of publishes). */
  readonly #stopStatus: () => void;
  readonly #onDeferredError: (err: unknown) => void;
  /** What this turn publishes and defers, in call order; sent by {@link #sendOutbox}. */
  #outbox: (Outgoing | (() => void))[] = [];
  #nextToken = 0;
  #closing: Promise<void> | undefined;
  /** Set once publishing is over; later publishes reject with it. */
  #closedError: Error | undefined;
  /** Called when the last pending publish settles while closing. */
  #onDrained: (() => void) | undefined;
  /** Set while {@link #sendOutbox} runs: what is queued meanwhile joins the same write. */
  #flushing = false;
  /**
   * Sends what this turn queued, and what sending it queues (withdrawable publishes built now);
   * nats.js writes all of it with one flush.
   */
  readonly #sendOutbox = (): void => {
    this.#flushing = true;
    const outbox = this.#outbox;
    // The loop reads the length anew: items queued while flushing are appended and sent too.
    for (let i = 0; i < outbox.length; i++) {
      const item = outbox[i];
      if (item === undefined) continue;
      if (typeof item !== "function") {
        this.#send(item);
        continue;
      }
      try {
        item();
      } catch (err) {
        this.#reportDeferredError(err);
      }
    }
    this.#outbox = [];
    this.#flushing = false;
  };

  /** A failing error handler must not stop the flush, which would leave the outbox unsent. */
  #reportDeferredError(err: unknown): void {
    try {
      this.#onDeferredError(err);
    } catch {
      // Nothing is left to tell.
    }
  }

  constructor(nc: NatsConnection, options: JetStreamPublisherOptions = {}) {
    this.#nc = nc;
    this.#timeoutMs = options.timeoutMs ?? 5000;
    this.#onDeferredError = options.onDeferredError ?? (() => undefined);
    const inbox = createInbox(options.inboxPrefix ?? connectionInboxPrefix(nc));
    this.#replyPrefix = `${inbox}.`;
    const sub = nc.subscribe(`${inbox}.*`, {
      callback: (err, msg) => {
        if (err) {
          // The server refused the subscription (a permissions violation): the publishes sent
          // fail with its refusal, and every one after them says why nothing is sent, which a
          // plain "connection closed" would hide.
          this.#closedError ??= new RepliesRefusedError(err);
          this.#rejectAll(err);
        } else this.#onReply(msg);
      },
    });
    this.#timer = setInterval(() => {
      this.#expire();
    }, options.timeoutCheckMs ?? 100);
    this.#timer.unref();
    // The subscription ends with the connection (or with close()): nothing can be acknowledged then.
    void sub.closed.then((err) => {
      clearInterval(this.#timer);
      const ended =
        err instanceof Error ? new RepliesRefusedError(err) : new ClosedConnectionError();
      this.#closedError ??= ended;
      // What still waits was sent (perhaps stored): the connection's end is its answer, not a
      // close() under way, whose error says a publish never left.
      this.#rejectAll(ended);
    });
    this.#unsubscribe = () => {
      sub.unsubscribe();
    };
    const status = nc.status();
    this.#stopStatus = () => {
      (status as { stop?: () => void }).stop?.();
    };
    void this.#followRefusals(status);
  }

  /**
   * The server refuses a publish the connection's user may not make (`Permissions Violation for
   * Publish`) on the connection, not in a reply: without this it would wait out its deadline and
   * read as perhaps stored. Each refusal fails the oldest publish to its subject that was written
   * and still waits (one refusal per refused message, in order): nothing of it was stored.
   */
  async #followRefusals(status: AsyncIterable<Status>): Promise<void> {
    for await (const event of status) {
      if (event.type !== "error") continue;
      const { error } = event;
      if (!(error instanceof PermissionViolationError) || error.operation !== "publish") continue;
      // The server answers each refused message with one error, in the order they were written:
      // the oldest written publish to the subject still waiting is the one refused.
      for (const [token, pending] of this.#pending.entries()) {
        if (pending.subject !== error.subject || !pending.written) continue;
        this.#settled(token);
        pending.reject(error);
        break;
      }
    }
  }

  /** Publishes waiting for an acknowledgement now. */
  get pending(): number {
    return this.#pending.size;
  }

  /**
   * Publishes `data` to `subject` and resolves with the stream's acknowledgement once it is
   * stored (`duplicate` is true when `msgID` collapsed into an earlier message). Never throws
   * synchronously; every failure is a rejection (see the class).
   */
  publish(
    subject: string,
    data: string | Uint8Array,
    options: JetStreamPublishOptions = {},
  ): Promise<PubAck> {
    if (this.#closedError) return Promise.reject(this.#closedError);
    return this.#queue(subject, data, options);
  }

  /**
   * Like {@link publish}, but the message is built only when this turn's publishes are written,
   * and can be withdrawn until then: for a message that a later one of the same turn makes
   * redundant (a job's `started` when the job has already finished), which then costs nothing to
   * encode. It leaves in the same socket write as the turn's other publishes, after them. A
   * `build` that throws rejects `acked` with its error.
   */
  publishWithdrawable(build: () => OutgoingMessage): WithdrawablePublish {
    const result = Promise.withResolvers<PubAck | undefined>();
    if (this.#closedError) {
      result.reject(this.#closedError);
      return { acked: result.promise, withdraw: () => false };
    }
    let state: "queued" | "sent" | "withdrawn" = "queued";
    this.#enqueue(() => {
      if (state === "withdrawn") return;
      state = "sent";
      let message: OutgoingMessage;
      try {
        message = build();
      } catch (err) {
        result.reject(err instanceof Error ? err : new Error(String(err)));
        return;
      }
      const { subject, data, options = {} } = message;
      // Accepted before any close began: it leaves with the rest even when closing.
      this.#queue(subject, data, options).then(result.resolve, result.reject);
    });
    return {
      acked: result.promise,
      withdraw: () => {
        if (state === "sent") return false;
        state = "withdrawn";
        result.resolve(undefined);
        return true;
      },
    };
  }

  /** Queues a publish for this turn's write and registers its wait for the acknowledgement. */
  #queue(
    subject: string,
    data: string | Uint8Array,
    options: JetStreamPublishOptions,
  ): Promise<PubAck> {
    // Headers first: a value no header can carry rejects this publish before anything waits for
    // its acknowledgement, which would otherwise time out later with nobody holding it.
    let headers: MsgHdrs | undefined;
    try {
      headers = publishHeaders(options);
    } catch (err) {
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
    const token = String(this.#nextToken++);
    const acked = new Promise<PubAck>((resolve, reject) => {
      const deadline = performance.now() + (options.timeout ?? this.#timeoutMs);
      this.#pending.set(token, { subject, deadline, written: false, resolve, reject });
    });
    const out: Outgoing = { subject, data, token, headers };
    this.#enqueue(out);
    return acked;
  }

  /**
   * Writes what this turn has queued now instead of at the turn's end: for a caller that has just
   * queued all it has (a batch decided at once), so the messages do not wait a turn of the event
   * loop. What is queued afterwards leaves at the turn's end as usual.
   */
  flush(): void {
    if (!this.#flushing && this.#outbox.length > 0) this.#sendOutbox();
  }

  /**
   * Runs `send` (a JetStream `ack()`, a plain `nc.publish`) with this turn's publishes, after those
   * queued so far, so that they share one socket write. What it throws goes to `onDeferredError`.
   */
  defer(send: () => void): void {
    this.#enqueue(send);
  }

  #enqueue(item: Outgoing | (() => void)): void {
    if (this.#outbox.push(item) === 1 && !this.#flushing) setImmediate(this.#sendOutbox);
  }

  #send(out: Outgoing): void {
    const waiting = this.#pending.get(out.token);
    // Already answered (the connection closed meanwhile): sending it would store it unawaited.
    if (waiting === undefined) return;
    try {
      this.#nc.publish(out.subject, out.data, {
        reply: this.#replyPrefix + out.token,
        headers: out.headers,
      });
      waiting.written = true;
    } catch (err) {
      // nats.js throws its own errors here (InvalidArgumentError, ClosedConnectionError, ...).
      this.#settled(out.token);
      waiting.reject(err instanceof Error ? err : new Error(String(err)));
    }
  }

  /**
   * Refuses new publishes, waits until every pending one is acknowledged or has timed out, and
   * stops listening. Calling it again returns the same promise.
   */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    this.#closedError ??= new PublisherClosedError();
    // Closed from a deferred function: the flush under way sends the rest of the outbox.
    if (!this.#flushing) this.#sendOutbox();
    if (this.#pending.size > 0) {
      await new Promise<void>((resolve) => {
        this.#onDrained = resolve;
      });
    }
    clearInterval(this.#timer);
    this.#unsubscribe();
    this.#stopStatus();
  }

  #onReply(msg: Msg): void {
    const token = msg.subject.substring(this.#replyPrefix.length);
    const pending = this.#pending.get(token);
    // A reply after its publish timed out has no one waiting.
    if (pending === undefined) return;
    this.#settled(token);
    let result: PubAck | Error;
    try {
      result = readAck(msg, pending.subject);
    } catch (err) {
      // Whatever answered was not JetStream (a header nats.js cannot read). Nothing may escape this
      // callback: nats.js would stop reading the connection.
      result = new JetStreamError("invalid ack response", { cause: err });
    }
    if (result instanceof Error) pending.reject(result);
    else pending.resolve(result);
  }

  #expire(): void {
    if (this.#pending.size === 0) return;
    const now = performance.now();
    for (const [token, pending] of this.#pending.entries()) {
      if (pending.deadline > now) continue;
      this.#settled(token);
      pending.reject(new TimeoutError());
    }
  }

  #rejectAll(err: Error): void {
    for (const [token, pending] of this.#pending.entries()) {
      this.#settled(token);
      pending.reject(err);
    }
  }

  #settled(token: string): void {
    this.#pending.delete(token);
    if (this.#pending.size === 0 && this.#onDrained) {
      const onDrained = this.#onDrained;
      this.#onDrained = undefined;
      onDrained();
    }
  }
}

function publishHeaders(options: JetStreamPublishOptions): MsgHdrs | undefined {
  const { msgID, expect } = options;
  if (msgID === undefined && expect?.streamName === undefined) return options.headers;
  const headers = options.headers ?? outgoingHeaders();
  if (msgID !== undefined) headers.set(PubHeaders.MsgIdHdr, msgID);
  if (expect?.streamName !== undefined)
    headers.set(PubHeaders.ExpectedStreamHdr, expect.streamName);
  return headers;
}

/** The acknowledgement in a reply, or the error it stands for. */
function readAck(msg: Msg, subject: string): PubAck | Error {
  if (msg.data.length === 0) {
    const code = msg.headers?.code ?? 0;
    if (code === 503) {
      return new RequestError(`no responders: '${subject}'`, {
        cause: new NoRespondersError(subject),
      });
    }
    return new JetStreamError(`unexpected reply: ${code} ${msg.headers?.description ?? ""}`);
  }
  let reply: unknown;
  try {
    reply = JSON.parse(decoder.decode(msg.data));
  } catch (err) {
    return new JetStreamError("invalid ack response", { cause: err });
  }
  // A responder that is not JetStream may answer anything JSON: `null`, an array, a number.
  if (!isAckReply(reply)) return new JetStreamError("invalid ack response");
  if (reply.error) return new JetStreamApiError(reply.error);
  if (typeof reply.stream !== "string" || reply.stream === "" || typeof reply.seq !== "number") {
    return new JetStreamError("invalid ack response");
  }
  const ack: PubAck = { stream: reply.stream, seq: reply.seq, duplicate: reply.duplicate === true };
  if (reply.domain !== undefined) ack.domain = reply.domain;
  return ack;
}

function isAckReply(reply: unknown): reply is Partial<PubAck> & { error?: ApiError } {
  return typeof reply === "object" && reply !== null && !Array.isArray(reply);
}

/**
 * The `inboxPrefix` the connection was opened with. nats.js keeps its options on the connection
 * object without typing them on `NatsConnection`; a connection of another shape has none.
 */
function connectionInboxPrefix(nc: NatsConnection): string | undefined {
  const prefix = (nc as { options?: { inboxPrefix?: unknown } }).options?.inboxPrefix;
  return typeof prefix === "string" && prefix !== "" ? prefix : undefined;
}
