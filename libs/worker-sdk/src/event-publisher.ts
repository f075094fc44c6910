import { Header, Subject, deadLetterMsgId, eventMsgId } from "@conveyor/contracts";
import type { DeadLetter, JobEvent } from "@conveyor/contracts";
import { carriedHeaders, outgoingHeaders } from "@conveyor/service-kit";
import type { JetStreamPublisher, OutgoingMessage } from "@conveyor/service-kit";
import type { TraceContext, Tracing } from "@conveyor/telemetry";
import type { MsgHdrs, NatsConnection } from "@nats-io/transport-node";

import { MessageTooLargeError } from "./errors.ts";

const encoder = new TextEncoder();

/**
 * Bytes of a message's headers as NATS sends them (which `max_payload` counts with the body): the
 * `NATS/1.0` line, a line per value, the blank line, and the `Nats-Msg-Id` the publish adds.
 */
function headerBytes(headers: MsgHdrs, msgID: string): number {
  let bytes = Buffer.byteLength(`NATS/1.0\r\nNats-Msg-Id: ${msgID}\r\n\r\n`);
  for (const [name, values] of headers) {
    for (const value of values) bytes += Buffer.byteLength(`${name}: ${value}\r\n`);
  }
  return bytes;
}

/** Where a worker records what happened to a job. */
export interface LifecyclePublisher {
  /** Publishes a lifecycle event to `events.<jobId>.<kind>`; resolves once stored. */
  event(event: JobEvent, trace: TraceContext): Promise<void>;
  /**
   * Publishes the event `build` returns, unless a later one makes it redundant first:
   * `withdraw()` takes it back while it has not left the client (the rest of the current turn of
   * the event loop), and then it is never built. `stored` resolves once it is stored, or at once
   * when withdrawn; it rejects like {@link event}.
   */
  withdrawableEvent(
    build: () => JobEvent,
    trace: TraceContext,
  ): { stored: Promise<void>; withdraw(): boolean };
  /** Publishes a dead letter to `dlq.<type>`; resolves once stored. */
  deadLetter(letter: DeadLetter, original: MsgHdrs | undefined, trace: TraceContext): Promise<void>;
  /**
   * Runs `reply` (a work message's `ack`, `nak` or `term`) with the publishes made in the same
   * turn of the event loop, so they share one socket write.
   */
  send(reply: () => void): void;
}

/**
 * Publishes lifecycle events and dead letters, each carrying the job's trace context, through the
 * worker's pipelined {@link JetStreamPublisher} (one inbox and one timer for all its publishes).
 */
export class EventPublisher implements LifecyclePublisher {
  readonly #nc: NatsConnection;
  readonly #publisher: JetStreamPublisher;
  readonly #tracing: Tracing;

  constructor(nc: NatsConnection, publisher: JetStreamPublisher, tracing: Tracing) {
    this.#nc = nc;
    this.#publisher = publisher;
    this.#tracing = tracing;
  }

  /** Publishes to `events.<jobId>.<kind>` and waits for the stream's acknowledgement. */
  async event(event: JobEvent, trace: TraceContext): Promise<void> {
    // Built at once: every job's outcome comes this way, and nothing takes it back.
    const { subject, data, options } = this.#eventMessage(event, trace);
    await this.#publisher.publish(subject, data, options);
  }

  withdrawableEvent(
    build: () => JobEvent,
    trace: TraceContext,
  ): { stored: Promise<void>; withdraw(): boolean } {
    const publish = this.#publisher.publishWithdrawable(() => this.#eventMessage(build(), trace));
    return {
      stored: publish.acked.then(() => undefined),
      withdraw: () => publish.withdraw(),
    };
  }

  /** The event's subject, JSON body and headers; throws {@link MessageTooLargeError}. */
  #eventMessage(event: JobEvent, trace: TraceContext): OutgoingMessage {
    const subject = Subject.event(event.jobId, event.kind);
    const headers = outgoingHeaders();
    headers.append(Header.JobId, event.jobId);
    headers.append(Header.JobType, event.type);
    this.#tracing.inject(trace, headers);
    const msgID = eventMsgId(event);
    const data = this.#encode(subject, event, headers, msgID);
    return { subject, data, options: { msgID, headers } };
  }

  /**
   * Publishes to `dlq.<type>` in a PRODUCER span, with the work message's headers copied (except
   * JetStream's own `Nats-*` headers) and the span's trace context.
   */
  async deadLetter(
    letter: DeadLetter,
    original: MsgHdrs | undefined,
    trace: TraceContext,
  ): Promise<void> {
    const subject = Subject.dlq(letter.type);
    await this.#tracing.produce(
      trace,
      { subject, jobId: letter.jobId, jobType: letter.type, attempt: letter.attempts },
      async (span) => {
        const headers = carriedHeaders(original);
        this.#tracing.inject(span, headers);
        await this.#publish(subject, letter, headers, deadLetterMsgId(letter));
      },
    );
  }

  send(reply: () => void): void {
    this.#publisher.defer(reply);
  }

  async #publish(subject: string, body: unknown, headers: MsgHdrs, msgID: string): Promise<void> {
    const data = this.#encode(subject, body, headers, msgID);
    await this.#publisher.publish(subject, data, { msgID, headers });
  }

  /**
   * The body as JSON bytes; throws {@link MessageTooLargeError} when the server would refuse it
   * with these headers. Measured, not estimated: the dead letter of a job as large as
   * `MAX_SUBMISSION_BYTES` allows must fit in what its 4 KiB of headroom leaves.
   */
  #encode(subject: string, body: unknown, headers: MsgHdrs, msgID: string): Uint8Array {
    const data = encoder.encode(JSON.stringify(body));
    const maxPayload = this.#nc.info?.max_payload;
    if (maxPayload === undefined) return data;
    const room = maxPayload - headerBytes(headers, msgID);
    if (data.byteLength > room) throw new MessageTooLargeError(subject, data.byteLength, room);
    return data;
  }
}
