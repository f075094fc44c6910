export { createDispatcher } from "./dispatcher.ts";
export type { Dispatcher, DispatcherDeps, DispatcherOptions } from "./dispatcher.ts";
export { dispatcherEnv } from "./config.ts";
export type { DispatcherEnv } from "./config.ts";
export { createDeadLetterer, defaultScanIntervalMs } from "./dead-letterer.ts";
export type { DeadLetterer, DeadLettererDeps, DeadLettererOptions } from "./dead-letterer.ts";
export type { DeadLetterObserver, FoundBy } from "./dead-letter-metrics.ts";
export type { ScanReport } from "./stranded-work-scan.ts";
export { createCommandMailbox } from "./command-mailbox.ts";
export type {
  CommandMailbox,
  CommandMailboxDeps,
  CommandMailboxOptions,
} from "./command-mailbox.ts";
export { createScheduleMailbox } from "./schedule-mailbox.ts";
export type {
  ScheduleMailbox,
  ScheduleMailboxDeps,
  ScheduleMailboxOptions,
} from "./schedule-mailbox.ts";
export { createRecurringMailbox } from "./recurring-mailbox.ts";
export type { RecurringMailbox, RecurringMailboxDeps } from "./recurring-mailbox.ts";
export { scheduleRuns } from "./schedule-runs.ts";
export type { ScheduleRuns } from "./schedule-runs.ts";
