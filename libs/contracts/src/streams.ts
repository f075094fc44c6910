/**
 * Names of the JetStream streams and KV buckets Conveyor uses. `docs/topology.md` describes each;
 * the topology lib creates them.
 */
export const StreamName = {
  /** Intake from REST and direct publishers: `jobs.submit.<type>`, and commands: `jobs.cmd.>`. */
  Jobs: "JOBS",
  /**
   * What workers pull, one subject per type and priority: `work.<type>` (priority 5),
   * `work.<type>._p<N>`. Workqueue retention.
   */
  Work: "WORK",
  /**
   * Scheduled jobs: each one's work item on `schedule.at.<jobId>`, which nats-server's message
   * scheduler puts on `schedule.due.<type>` at the job's time, for the dispatcher to queue; and
   * recurring schedules on `schedule.cron.<name>`, which it copies to `schedule.tick.<name>` at
   * each of their times, for the dispatcher to submit their job.
   */
  Schedules: "SCHEDULES",
  /** Lifecycle facts: `events.<jobId>.<kind>`. The read models are a projection of it. */
  Events: "EVENTS",
  /** Dead letters: `dlq.<type>`; and the log of their replays and discards: `dlq-log.<jobId>`. */
  Dlq: "DLQ",
  /** The server's advisories about the work stream, captured durably. */
  Advisories: "ADVISORIES",
} as const;
export type StreamName = (typeof StreamName)[keyof typeof StreamName];

export const KvBucket = {
  /** Job types that workers have registered: key = type name, value = {@link JobTypeDescriptor}. */
  JobTypes: "conveyor-job-types",
  /**
   * Cancelled jobs: key = job id, value = {@link CancellationRecord}. Workers watch it to skip and
   * abort cancelled jobs.
   */
  Cancellations: "conveyor-cancellations",
  /**
   * Recurring schedules' latest runs: key = schedule name, value = {@link ScheduleRun}, written by
   * the dispatcher at each tick.
   */
  ScheduleRuns: "conveyor-schedule-runs",
  /**
   * Starts of rate-limited job types: key = `<type>.<window>` (the window's number, time divided by
   * its length), value = how many jobs of the type started in it, counted by the workers.
   */
  RateLimits: "conveyor-rate-limits",
} as const;

/** Durable consumer names that are not per job type. */
export const ConsumerName = {
  DispatcherIntake: "dispatcher-intake",
  /** The dispatcher's mailbox of bulk submissions (`jobs.bulk.>` on `JOBS`). */
  DispatcherBulkIntake: "dispatcher-bulk-intake",
  Projector: "status-projector",
  /** The status projector's mailbox of dead letters and their log (`dlq.>`, `dlq-log.>` on `DLQ`). */
  ProjectorDeadLetters: "status-projector-dlq",
  /** The dispatcher's mailbox of max-deliveries advisories about work consumers (on `ADVISORIES`). */
  DispatcherAdvisories: "dispatcher-advisories",
  /** The dispatcher's mailbox of recurring schedules' ticks (`schedule.tick.>` on `SCHEDULES`). */
  DispatcherRecurring: "dispatcher-recurring",
  /** The dispatcher's mailbox of scheduled jobs whose time has come (`schedule.due.>` on `SCHEDULES`). */
  DispatcherSchedules: "dispatcher-schedules",
  /** The dispatcher's mailbox of commands (`jobs.cmd.>` on `JOBS`): cancel, replay, discard. */
  DispatcherCommands: "dispatcher-commands",
} as const;
