import {
  ConsumerName,
  JobPriority,
  StreamName,
  Subject,
  workConsumerName,
} from "@conveyor/contracts";
import { AckPolicy, DeliverPolicy } from "@nats-io/jetstream";
import type { ConsumerConfig } from "@nats-io/jetstream";
import { nanos } from "@nats-io/transport-node";

/** The parts of a durable pull consumer's configuration Conveyor decides. */
export type ConsumerSpec = Pick<
  ConsumerConfig,
  "durable_name" | "ack_policy" | "ack_wait" | "deliver_policy"
> &
  Partial<
    Pick<ConsumerConfig, "filter_subject" | "filter_subjects" | "max_deliver" | "max_ack_pending">
  >;

/** A consumer and the stream it reads. */
export interface ConsumerPlacement {
  stream: string;
  config: ConsumerSpec;
  /** Keep an existing consumer's `ack_wait` where it is longer than `config`'s. */
  keepLongerAckWait?: boolean;
}

/** Lease of a delivered message before JetStream redelivers it, in milliseconds. */
export const defaultAckWaitMs = 30_000;

/** Deliveries after which JetStream stops redelivering a work item; jobs retry far fewer times. */
export const workMaxDeliverCap = 100;

/**
 * Deliveries of a submission or a command: unlimited (-1, set explicitly so that consumers made
 * with the earlier cap of 60 are updated). JetStream drops a message at its cap without a trace
 * (only `WORK`'s max-deliveries advisories are captured), so the cap is the dispatcher's: it
 * retries a message for as long as NATS is unavailable (an accepted job is queued once `WORK` is
 * back), and gives up on one failing for another reason after 50 deliveries (about 25 minutes),
 * recording it, so that such messages cannot fill the consumer's `max_ack_pending` for good.
 */
export const intakeMaxDeliver = -1;

/** The durable consumers every deployment has (work consumers come per job type). */
export function coreConsumers(): ConsumerPlacement[] {
  return [
    {
      stream: StreamName.Jobs,
      config: {
        durable_name: ConsumerName.DispatcherIntake,
        filter_subject: Subject.submitAll,
        ack_policy: AckPolicy.Explicit,
        ack_wait: nanos(defaultAckWaitMs),
        deliver_policy: DeliverPolicy.All,
        max_deliver: intakeMaxDeliver,
      },
    },
    {
      stream: StreamName.Jobs,
      config: {
        // Apart from single submissions, so that a flood of bulk ones does not hold them up.
        durable_name: ConsumerName.DispatcherBulkIntake,
        filter_subject: Subject.submitBulkAll,
        ack_policy: AckPolicy.Explicit,
        ack_wait: nanos(defaultAckWaitMs),
        deliver_policy: DeliverPolicy.All,
        max_deliver: intakeMaxDeliver,
      },
    },
    {
      stream: StreamName.Jobs,
      config: {
        durable_name: ConsumerName.DispatcherCommands,
        filter_subject: Subject.commandAll,
        ack_policy: AckPolicy.Explicit,
        ack_wait: nanos(defaultAckWaitMs),
        deliver_policy: DeliverPolicy.All,
        max_deliver: intakeMaxDeliver,
      },
    },
    {
      stream: StreamName.Schedules,
      config: {
        // Scheduled jobs whose time has come, for the dispatcher to queue on `WORK`. Unlimited
        // deliveries: a job is queued, however long `WORK` is away, never given up on.
        durable_name: ConsumerName.DispatcherSchedules,
        filter_subject: Subject.scheduleDueAll,
        ack_policy: AckPolicy.Explicit,
        ack_wait: nanos(defaultAckWaitMs),
        deliver_policy: DeliverPolicy.All,
      },
    },
    {
      stream: StreamName.Schedules,
      config: {
        // Recurring schedules' ticks, for the dispatcher to submit their job. Unlimited
        // deliveries, as for due jobs: a tick is never given up on.
        durable_name: ConsumerName.DispatcherRecurring,
        filter_subject: Subject.recurringTickAll,
        ack_policy: AckPolicy.Explicit,
        ack_wait: nanos(defaultAckWaitMs),
        deliver_policy: DeliverPolicy.All,
      },
    },
    {
      stream: StreamName.Events,
      config: {
        durable_name: ConsumerName.Projector,
        filter_subject: Subject.eventsAll,
        ack_policy: AckPolicy.Explicit,
        ack_wait: nanos(defaultAckWaitMs),
        deliver_policy: DeliverPolicy.All,
        // The projector acknowledges in batches after each bulk write, so many stay unacknowledged.
        max_ack_pending: 10_000,
      },
    },
    {
      stream: StreamName.Dlq,
      config: {
        durable_name: ConsumerName.ProjectorDeadLetters,
        filter_subjects: [Subject.dlqAll, Subject.deadLetterLogAll],
        ack_policy: AckPolicy.Explicit,
        ack_wait: nanos(defaultAckWaitMs),
        deliver_policy: DeliverPolicy.All,
        // Acknowledged in batches, like the events consumer.
        max_ack_pending: 10_000,
      },
    },
    {
      stream: StreamName.Advisories,
      config: {
        durable_name: ConsumerName.DispatcherAdvisories,
        // Only max-deliveries: a terminated message was dead-lettered by its worker before `term`.
        filter_subject: Subject.maxDeliveriesAdvisories(StreamName.Work),
        ack_policy: AckPolicy.Explicit,
        ack_wait: nanos(defaultAckWaitMs),
        deliver_policy: DeliverPolicy.All,
      },
    },
  ];
}

/** Options of the durable work consumer of one job type. */
export interface WorkConsumerOptions {
  /** Lease of a delivered job before it is redelivered, in milliseconds. @default 30000 */
  ackWaitMs?: number;
  /** Deliveries before JetStream gives up (the hard cap; jobs enforce their own maxAttempts). @default 100 */
  maxDeliver?: number;
  /**
   * Jobs of this type delivered and not yet acknowledged, across all workers.
   * @default {@link defaultWorkMaxAckPending}
   */
  maxAckPending?: number;
  /**
   * Only lengthen an existing consumer's `ack_wait`, never shorten it: for a worker that shares
   * the consumer with replicas renewing their leases by their own, possibly longer, `ackWaitMs`.
   * Decided on the consumer as read for the update, so two replicas starting together cannot
   * shorten it between a look and a write of their own. @default false
   */
  keepLongerAckWait?: boolean;
}

/**
 * A work consumer's `max_ack_pending` unless given, written out so that a consumer once given
 * another one returns to it (an update merges what it leaves out). A job waiting out a retry delay
 * (a delayed `nak`) stays unacknowledged and counts here: at the server's default of 1000, a
 * thousand jobs of a type in backoff (a downstream outage) would stop every fresh job of that
 * type until their delays ran out. Workers pull only what they have free slots for, so this
 * bounds retries in backoff, not running jobs.
 */
export const defaultWorkMaxAckPending = 10_000;

/** The durable work consumer of one job type's jobs of one priority (its lane). */
export function workConsumer(
  type: string,
  options: WorkConsumerOptions = {},
  priority: number = JobPriority.default,
): ConsumerPlacement {
  const config: ConsumerSpec = {
    durable_name: workConsumerName(type, priority),
    filter_subject: Subject.work(type, priority),
    ack_policy: AckPolicy.Explicit,
    ack_wait: nanos(options.ackWaitMs ?? defaultAckWaitMs),
    deliver_policy: DeliverPolicy.All,
    max_deliver: options.maxDeliver ?? workMaxDeliverCap,
    max_ack_pending: options.maxAckPending ?? defaultWorkMaxAckPending,
  };
  return { stream: StreamName.Work, config, keepLongerAckWait: options.keepLongerAckWait === true };
}
