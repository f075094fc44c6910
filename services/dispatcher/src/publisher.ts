import { Header, LifecycleKind, Subject } from "@conveyor/contracts";
import type { QueuedEvent, RejectedEvent, WorkItem } from "@conveyor/contracts";
import type { TraceContext, Tracing } from "@conveyor/telemetry";
import type { JetStreamClient, PubAck } from "@nats-io/jetstream";
import { headers as natsHeaders } from "@nats-io/transport-node";

/**
 * Publishes what the dispatcher produces, each in a PRODUCER span whose context travels in the
 * message's `traceparent`, and each with a `Nats-Msg-Id` so that a re-publish collapses.
 */
export class DispatchPublisher {
  readonly #js: JetStreamClient;
  readonly #tracing: Tracing;

  constructor(js: JetStreamClient, tracing: Tracing) {
    this.#js = js;
    this.#tracing = tracing;
  }

  /** `work.<type>`, deduplicated as `<jobId>:<run>`. */
  work(parent: TraceContext, item: WorkItem): Promise<PubAck> {
    return this.#publish(parent, {
      subject: Subject.work(item.type),
      msgId: `${item.id}:${item.run}`,
      body: item,
      jobId: item.id,
      jobType: item.type,
    });
  }

  /** `events.<jobId>.queued`, deduplicated as `<jobId>:<run>:0:queued`. */
  queued(parent: TraceContext, event: QueuedEvent): Promise<PubAck> {
    return this.#publish(parent, {
      subject: Subject.event(event.jobId, LifecycleKind.Queued),
      msgId: `${event.jobId}:${event.run}:${event.attempt}:${LifecycleKind.Queued}`,
      body: event,
      jobId: event.jobId,
      jobType: event.type,
    });
  }

  /** `events.<rejectionId>.rejected`, deduplicated as `<rejectionId>:rejected`. */
  rejected(parent: TraceContext, event: RejectedEvent): Promise<PubAck> {
    return this.#publish(parent, {
      subject: Subject.event(event.rejectionId, LifecycleKind.Rejected),
      msgId: `${event.rejectionId}:${LifecycleKind.Rejected}`,
      body: event,
      jobId: event.jobId,
      jobType: undefined,
    });
  }

  #publish(
    parent: TraceContext,
    message: {
      subject: string;
      msgId: string;
      body: unknown;
      jobId: string | undefined;
      jobType: string | undefined;
    },
  ): Promise<PubAck> {
    const { subject, msgId, body, jobId, jobType } = message;
    return this.#tracing.produce(parent, { subject, jobId, jobType }, (context) => {
      const headers = natsHeaders();
      this.#tracing.inject(context, headers);
      if (jobId !== undefined) headers.set(Header.JobId, jobId);
      if (jobType !== undefined) headers.set(Header.JobType, jobType);
      return this.#js.publish(subject, JSON.stringify(body), { msgID: msgId, headers });
    });
  }
}
