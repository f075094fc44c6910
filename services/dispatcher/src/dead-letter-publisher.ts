import { Header, LifecycleKind, Subject, deadLetterMsgId } from "@conveyor/contracts";
import type { DeadEvent, DeadLetter } from "@conveyor/contracts";
import { carriedHeaders, outgoingHeaders } from "@conveyor/service-kit";
import type { TraceContext, Tracing } from "@conveyor/telemetry";
import type { JetStreamClient, PubAck } from "@nats-io/jetstream";
import type { MsgHdrs } from "@nats-io/transport-node";

/**
 * Publishes dead letters and `dead` events, each in a PRODUCER span of the job's trace and with a
 * `Nats-Msg-Id` shared with the workers' own dead-lettering, so the two paths and repeated
 * advisories collapse into one record.
 */
export class DeadLetterPublisher {
  readonly #js: JetStreamClient;
  readonly #tracing: Tracing;

  constructor(js: JetStreamClient, tracing: Tracing) {
    this.#js = js;
    this.#tracing = tracing;
  }

  /**
   * `dlq.<type>`, deduplicated by {@link deadLetterMsgId}, with the work message's headers copied
   * (except JetStream's own `Nats-*` ones) so the letter can be replayed as it was queued.
   */
  deadLetter(parent: TraceContext, letter: DeadLetter, original: MsgHdrs): Promise<PubAck> {
    const subject = Subject.dlq(letter.type);
    const attrs = { subject, jobId: letter.jobId, jobType: letter.type, attempt: letter.attempts };
    return this.#tracing.produce(parent, attrs, (context) => {
      const headers = carriedHeaders(original);
      this.#tracing.inject(context, headers);
      return this.#js.publish(subject, JSON.stringify(letter), {
        msgID: deadLetterMsgId(letter),
        headers,
      });
    });
  }

  /** `events.<jobId>.dead`, deduplicated as `<jobId>:<run>:<attempt>:dead` like the workers'. */
  dead(parent: TraceContext, event: DeadEvent): Promise<PubAck> {
    const subject = Subject.event(event.jobId, LifecycleKind.Dead);
    const attrs = { subject, jobId: event.jobId, jobType: event.type, attempt: event.attempt };
    return this.#tracing.produce(parent, attrs, (context) => {
      const headers = outgoingHeaders();
      this.#tracing.inject(context, headers);
      headers.set(Header.JobId, event.jobId);
      headers.set(Header.JobType, event.type);
      return this.#js.publish(subject, JSON.stringify(event), {
        msgID: `${event.jobId}:${event.run}:${event.attempt}:${LifecycleKind.Dead}`,
        headers,
      });
    });
  }
}
