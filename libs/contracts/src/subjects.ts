import type { CommandVerb } from "./commands.ts";
import type { LifecycleKind } from "./events.ts";
import { JobPriority, laneSuffix, priorityOfLaneToken } from "./priority.ts";

/** Subject builders. Every subject Conveyor publishes or consumes is made here. */
export const Subject = {
  submitAll: "jobs.submit.>",
  submit: (type: string) => `jobs.submit.${type}`,
  /** Bulk submissions: one message carrying many jobs of one type (see {@link JobBulkSubmission}). */
  submitBulkAll: "jobs.bulk.>",
  submitBulk: (type: string) => `jobs.bulk.${type}`,
  commandAll: "jobs.cmd.>",
  command: (verb: CommandVerb, jobId: string) => `jobs.cmd.${verb}.${jobId}`,
  workAll: "work.>",
  /**
   * The work subject of a type's jobs of one priority: `work.<type>` for the default priority,
   * `work.<type>._p<N>` for the others (see {@link laneSuffix}).
   */
  work: (type: string, priority: number = JobPriority.default) => {
    const suffix = laneSuffix(priority);
    return suffix === "" ? `work.${type}` : `work.${type}.${suffix}`;
  },
  /** A scheduled job's work item, held by the `SCHEDULES` stream until its time. */
  scheduleAtAll: "schedule.at.>",
  scheduleAt: (jobId: string) => `schedule.at.${jobId}`,
  /** Where the `SCHEDULES` stream puts a held work item at its time, for the dispatcher. */
  scheduleDueAll: "schedule.due.>",
  scheduleDue: (type: string) => `schedule.due.${type}`,
  /** A recurring schedule, held by the `SCHEDULES` stream for good (until deleted). */
  recurringAll: "schedule.cron.>",
  recurring: (name: string) => `schedule.cron.${name}`,
  /** Where the `SCHEDULES` stream puts a recurring schedule at each of its times. */
  recurringTickAll: "schedule.tick.>",
  recurringTick: (name: string) => `schedule.tick.${name}`,
  eventsAll: "events.>",
  event: (jobId: string, kind: LifecycleKind) => `events.${jobId}.${kind}`,
  /** Every event of one job (or one rejection), whatever its kind. */
  eventsOf: (id: string) => `events.${id}.*`,
  dlqAll: "dlq.>",
  dlq: (type: string) => `dlq.${type}`,
  /** The dead-letter log of one job (replays, discards), kept in the `DLQ` stream. */
  deadLetterLogAll: "dlq-log.>",
  deadLetterLog: (jobId: string) => `dlq-log.${jobId}`,
  maxDeliveriesAdvisories: (stream: string) =>
    `$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.${stream}.>`,
  terminatedAdvisories: (stream: string) =>
    `$JS.EVENT.ADVISORY.CONSUMER.MSG_TERMINATED.${stream}.>`,
} as const;

const submitPrefix = "jobs.submit.";
const bulkPrefix = "jobs.bulk.";
const commandPrefix = "jobs.cmd.";
const workPrefix = "work.";
const dlqPrefix = "dlq.";
const scheduleDuePrefix = "schedule.due.";

/** The job type a submission subject names, or undefined when the subject is not a submission. */
export function typeFromSubmitSubject(subject: string): string | undefined {
  return subject.startsWith(submitPrefix) ? subject.slice(submitPrefix.length) : undefined;
}

/** The job type a bulk submission subject `jobs.bulk.<type>` names, or undefined for another subject. */
export function typeFromBulkSubject(subject: string): string | undefined {
  return subject.startsWith(bulkPrefix) ? subject.slice(bulkPrefix.length) : undefined;
}

/** The job type a work subject names. */
export function typeFromWorkSubject(subject: string): string | undefined {
  return parseWorkSubject(subject)?.type;
}

/**
 * The job type and priority a work subject names (`work.<type>` the default priority,
 * `work.<type>._p<N>` priority N), or undefined when the subject is not a work subject.
 */
export function parseWorkSubject(subject: string): { type: string; priority: number } | undefined {
  if (!subject.startsWith(workPrefix)) return undefined;
  const rest = subject.slice(workPrefix.length);
  const lastDot = rest.lastIndexOf(".");
  const priority = lastDot < 0 ? undefined : priorityOfLaneToken(rest.slice(lastDot + 1));
  if (priority === undefined) return { type: rest, priority: JobPriority.default };
  return { type: rest.slice(0, lastDot), priority };
}

/**
 * The verb and job id of a command subject `jobs.cmd.<verb>.<jobId>`, or undefined when the subject
 * is not a command or has another shape. The verb is not checked against the known ones.
 */
export function parseCommandSubject(subject: string): { verb: string; jobId: string } | undefined {
  if (!subject.startsWith(commandPrefix)) return undefined;
  const [verb, jobId, ...rest] = subject.slice(commandPrefix.length).split(".");
  if (verb === undefined || verb === "" || jobId === undefined || jobId === "" || rest.length > 0) {
    return undefined;
  }
  return { verb, jobId };
}

/** The job type a due scheduled job's subject `schedule.due.<type>` names. */
export function typeFromScheduleDueSubject(subject: string): string | undefined {
  if (!subject.startsWith(scheduleDuePrefix)) return undefined;
  const type = subject.slice(scheduleDuePrefix.length);
  return type === "" ? undefined : type;
}

/** The job type a dead-letter subject `dlq.<type>` names. */
export function typeFromDlqSubject(subject: string): string | undefined {
  return subject.startsWith(dlqPrefix) ? subject.slice(dlqPrefix.length) : undefined;
}
