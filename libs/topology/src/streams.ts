import { StreamName, Subject } from "@conveyor/contracts";
import { DiscardPolicy, RetentionPolicy, StorageType } from "@nats-io/jetstream";
import type { StreamConfig } from "@nats-io/jetstream";
import { nanos } from "@nats-io/transport-node";

import { dayMs, dlqMaxAgeMs, eventsDuplicateWindowMs, hourMs, minuteMs } from "./options.ts";
import type { ResolvedTopologyOptions } from "./options.ts";

/** The parts of a stream's configuration Conveyor decides; the server fills in the rest. */
export type StreamSpec = Pick<
  StreamConfig,
  | "name"
  | "subjects"
  | "retention"
  | "storage"
  | "max_age"
  | "duplicate_window"
  | "num_replicas"
  | "discard"
  | "allow_direct"
  | "allow_msg_schedules"
>;

/** The six streams, in the order they are created. */
export function streamSpecs(options: ResolvedTopologyOptions): StreamSpec[] {
  const base = {
    storage: StorageType.File,
    num_replicas: options.replicas,
    discard: DiscardPolicy.Old,
    allow_direct: false,
  } as const;
  return [
    {
      ...base,
      name: StreamName.Jobs,
      subjects: [Subject.submitAll, Subject.submitBulkAll, Subject.commandAll],
      retention: RetentionPolicy.Limits,
      max_age: nanos(options.jobsMaxAgeMs),
      duplicate_window: nanos(options.jobsDuplicateWindowMs),
    },
    {
      ...base,
      name: StreamName.Work,
      subjects: [Subject.workAll],
      retention: RetentionPolicy.Workqueue,
      // Work is removed when acknowledged; nothing ages out, so no job is lost to a long backlog.
      max_age: 0,
      duplicate_window: nanos(options.workDuplicateWindowMs),
    },
    {
      ...base,
      name: StreamName.Schedules,
      subjects: [
        Subject.scheduleAtAll,
        Subject.scheduleDueAll,
        Subject.recurringAll,
        Subject.recurringTickAll,
      ],
      // A held work item is removed by the server when its time comes, and the one it puts on
      // `schedule.due.<type>` once the dispatcher has queued it; a recurring schedule stays until
      // deleted, and each tick goes once its job is submitted: nothing ages out, however far
      // ahead a job is scheduled.
      retention: RetentionPolicy.Workqueue,
      max_age: 0,
      // A redelivered submission holds its work item again under the same `Nats-Msg-Id`; as
      // `WORK`'s, the window outlasts the dispatcher's retries of one submission while NATS
      // answers (an outage is retried until it ends: see docs/topology.md).
      duplicate_window: nanos(options.workDuplicateWindowMs),
      // nats-server's message scheduler (2.12 and later): `Nats-Schedule: @at <time>`.
      allow_msg_schedules: true,
    },
    {
      ...base,
      name: StreamName.Events,
      subjects: [Subject.eventsAll],
      retention: RetentionPolicy.Limits,
      max_age: nanos(options.eventsMaxAgeMs),
      duplicate_window: nanos(eventsDuplicateWindowMs),
      // The gateway reads a job that is not projected yet with one direct get of its last events.
      allow_direct: true,
    },
    {
      ...base,
      name: StreamName.Dlq,
      subjects: [Subject.dlqAll, Subject.deadLetterLogAll],
      retention: RetentionPolicy.Limits,
      max_age: nanos(dlqMaxAgeMs),
      // Dead-lettering is retried from the start while a later step fails (the dead event, the
      // work message's delete): an hour keeps a failure of that long to one letter per run. A
      // letter is rare, so the ids remembered are few.
      duplicate_window: nanos(hourMs),
    },
    {
      ...base,
      name: StreamName.Advisories,
      subjects: [
        Subject.maxDeliveriesAdvisories(StreamName.Work),
        Subject.terminatedAdvisories(StreamName.Work),
      ],
      retention: RetentionPolicy.Limits,
      max_age: nanos(7 * dayMs),
      duplicate_window: nanos(2 * minuteMs),
    },
  ];
}
