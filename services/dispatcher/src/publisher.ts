import { Header, JobId, LifecycleKind, Subject, deadLetterLogMsgId } from "@conveyor/contracts";
import type {
  CancelledEvent,
  DeadLetterLogEntry,
  QueuedEvent,
  RejectedEvent,
  SubmissionSource,
  WorkItem,
} from "@conveyor/contracts";
import { outgoingHeaders } from "@conveyor/service-kit";
import type { TraceContext, Tracing } from "@conveyor/telemetry";
import type { PubAck } from "@nats-io/jetstream";
import type { MsgHdrs } from "@nats-io/transport-node";

/**
 * What stores a message in JetStream and resolves with its PubAck: a `JetStreamPublisher` from
 * `@conveyor/service-kit` (pipelined, for the intake's volume) or a nats.js `JetStreamClient`.
 */
export interface JetStreamSink {
  publish(
    subject: string,
    data: string | Uint8Array,
    options: { msgID: string; headers: MsgHdrs },
  ): Promise<PubAck>;
}

/**
 * Publishes what the dispatcher produces, each in a PRODUCER span whose context travels in the
 * message's `traceparent`, and each with a `Nats-Msg-Id` so that a re-publish collapses. Through a
 * `JetStreamPublisher` the message is written within the call, so the publishes made in one tick
 * leave in one socket write and are acknowledged together.
 */
export class DispatchPublisher {
  readonly #js: JetStreamSink;
  readonly #tracing: Tracing;

  constructor(js: JetStreamSink, tracing: Tracing) {
    this.#js = js;
    this.#tracing = tracing;
  }

  /**
   * `work.<type>` (the lane of the job's priority, see `Subject.work`), deduplicated as
   * `<jobId>:<run>`. The `Conveyor-Source` header travels with the
   * work item into its dead letter, so a replay queues the job with its original source.
   */
  work(parent: TraceContext, item: WorkItem, source: SubmissionSource): Promise<PubAck> {
    return this.#publish(parent, {
      subject: Subject.work(item.type, item.priority),
      msgId: `${item.id}:${item.run}`,
      body: item,
      jobId: item.id,
      jobType: item.type,
      source,
    });
  }

  /**
   * A due scheduled job's message that is no readable work item (published by hand, or by a
   * release whose work items this one cannot read), passed on to `work.<type>` as it is, so that
   * the type's worker dead-letters it, naming the job when its body does; deduplicated as
   * `msgId`.
   */
  unreadableWork(
    parent: TraceContext,
    type: string,
    data: Uint8Array,
    msgId: string,
    jobId: string | undefined,
  ): Promise<PubAck> {
    return this.#publish(parent, {
      subject: Subject.work(type),
      msgId,
      body: data,
      jobId,
      jobType: type,
    });
  }

  /**
   * Holds a scheduled job's work item on `schedule.at.<jobId>` in `SCHEDULES`, deduplicated as
   * `<jobId>:<run>:scheduled`: nats-server's message scheduler puts it on `schedule.due.<type>`,
   * with its headers (the `traceparent` of this span, the job's id, type and source), at `runAt`,
   * and the dispatcher then queues it on `WORK` ({@link work}).
   */
  scheduled(
    parent: TraceContext,
    item: WorkItem,
    source: SubmissionSource,
    runAt: Date,
  ): Promise<PubAck> {
    return this.#publish(parent, {
      subject: Subject.scheduleAt(item.id),
      msgId: `${item.id}:${item.run}:scheduled`,
      body: item,
      jobId: item.id,
      jobType: item.type,
      source,
      schedule: { at: runAt, target: Subject.scheduleDue(item.type) },
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

  /**
   * `events.<jobId>.cancelled`, deduplicated as `<jobId>:<run>:<attempt>:cancelled` like the
   * workers'; its span links to `links` (the request that asked for the cancel).
   */
  cancelled(
    parent: TraceContext,
    event: CancelledEvent,
    links: readonly TraceContext[] = [],
  ): Promise<PubAck> {
    return this.#publish(
      parent,
      {
        subject: Subject.event(event.jobId, LifecycleKind.Cancelled),
        msgId: `${event.jobId}:${event.run}:${event.attempt}:${LifecycleKind.Cancelled}`,
        body: event,
        jobId: event.jobId,
        jobType: event.type,
      },
      links,
    );
  }

  /** `dlq-log.<jobId>`, deduplicated as `<jobId>:<run>:<action>`. */
  deadLetterLog(parent: TraceContext, entry: DeadLetterLogEntry): Promise<PubAck> {
    return this.#publish(parent, {
      subject: Subject.deadLetterLog(entry.jobId),
      msgId: deadLetterLogMsgId(entry),
      body: entry,
      jobId: entry.jobId,
      jobType: entry.type,
    });
  }

  /**
   * `events.<rejectionId>.rejected`, deduplicated as `<rejectionId>:rejected`. The id a refused
   * submission claims goes in the `Conveyor-Job-Id` header only when it is a job id: it may be
   * anything (a line break, which no header value can hold), and it stays in the event's body.
   */
  rejected(parent: TraceContext, event: RejectedEvent): Promise<PubAck> {
    const { jobId } = event;
    return this.#publish(parent, {
      subject: Subject.event(event.rejectionId, LifecycleKind.Rejected),
      msgId: `${event.rejectionId}:${LifecycleKind.Rejected}`,
      body: event,
      jobId: jobId !== undefined && JobId.safeParse(jobId).success ? jobId : undefined,
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
      source?: SubmissionSource;
      /** When and where the stream's message scheduler is to put the message. */
      schedule?: { at: Date; target: string };
    },
    links: readonly TraceContext[] = [],
  ): Promise<PubAck> {
    const { subject, msgId, body, jobId, jobType, source, schedule } = message;
    return this.#tracing.produce(
      parent,
      { subject, jobId, jobType },
      (context) => {
        const headers = outgoingHeaders();
        this.#tracing.inject(context, headers);
        if (jobId !== undefined) headers.append(Header.JobId, jobId);
        if (jobType !== undefined) headers.append(Header.JobType, jobType);
        if (source !== undefined) headers.append(Header.Source, source);
        if (schedule !== undefined) {
          headers.append(Header.Schedule, `@at ${schedule.at.toISOString()}`);
          headers.append(Header.ScheduleTarget, schedule.target);
        }
        const data = body instanceof Uint8Array ? body : JSON.stringify(body);
        return this.#js.publish(subject, data, { msgID: msgId, headers });
      },
      links,
    );
  }
}
