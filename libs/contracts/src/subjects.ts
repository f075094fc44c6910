import type { LifecycleKind } from "./events.ts";

/** Subject builders. Every subject Conveyor publishes or consumes is made here. */
export const Subject = {
  submitAll: "jobs.submit.>",
  submit: (type: string) => `jobs.submit.${type}`,
  commandAll: "jobs.cmd.>",
  workAll: "work.>",
  work: (type: string) => `work.${type}`,
  eventsAll: "events.>",
  event: (jobId: string, kind: LifecycleKind) => `events.${jobId}.${kind}`,
  dlqAll: "dlq.>",
  dlq: (type: string) => `dlq.${type}`,
  maxDeliveriesAdvisories: (stream: string) =>
    `$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.${stream}.>`,
  terminatedAdvisories: (stream: string) =>
    `$JS.EVENT.ADVISORY.CONSUMER.MSG_TERMINATED.${stream}.>`,
} as const;

const submitPrefix = "jobs.submit.";
const workPrefix = "work.";

/** The job type a submission subject names, or undefined when the subject is not a submission. */
export function typeFromSubmitSubject(subject: string): string | undefined {
  return subject.startsWith(submitPrefix) ? subject.slice(submitPrefix.length) : undefined;
}

/** The job type a work subject names. */
export function typeFromWorkSubject(subject: string): string | undefined {
  return subject.startsWith(workPrefix) ? subject.slice(workPrefix.length) : undefined;
}
