import { z } from "zod";

import { JobId } from "./job-id.ts";
import { JobTypeName } from "./job-type.ts";
import { MsgIdPrefix } from "./msg-id-prefixes.ts";

/** What a command on `jobs.cmd.<verb>.<jobId>` asks the dispatcher to do. */
export const CommandVerb = {
  /** Stop a queued or running job: {@link CancelCommand}. */
  Cancel: "cancel",
  /** Run a dead-lettered job again as a new run: {@link ReplayCommand}. */
  Replay: "replay",
  /** Drop a dead letter for good: {@link DiscardCommand}. */
  Discard: "discard",
} as const;
export type CommandVerb = (typeof CommandVerb)[keyof typeof CommandVerb];

/** Longest reason a client may give, in characters. */
export const maxReasonChars = 1000;

const Reason = z.string().min(1).max(maxReasonChars);

/**
 * Cancel one job, published to `jobs.cmd.cancel.<jobId>`. `type`, `run` and `attempt` say where the
 * requester saw the job, because the dispatcher records the cancel as a `cancelled` event of that
 * run and attempt without reading any read model: at attempt 0 a queued job shows `cancelled` at
 * once; at the attempt of a failed one (waiting for its retry) it shows `cancelled` too; a running
 * attempt outranks both and ends `cancelled` when its worker stops it.
 */
export const CancelCommand = z
  .object({
    jobId: JobId,
    type: JobTypeName,
    /** The run to cancel (1, or more after replays); later runs are not affected. */
    run: z.int().min(1),
    /** The attempt the cancel is recorded at. @default 0 */
    attempt: z.int().min(0).default(0),
    reason: Reason,
    /** ISO-8601 time the cancel was requested. */
    requestedAt: z.iso.datetime(),
  })
  .strict();
export type CancelCommand = z.infer<typeof CancelCommand>;
export type CancelCommandInput = z.input<typeof CancelCommand>;

/**
 * What the dispatcher stores under the job id in the `conveyor-cancellations` KV bucket. Workers
 * watch the bucket: a delivery of a cancelled run is not run, a running one is aborted.
 */
export const CancellationRecord = z.object({
  /** Runs up to this one are cancelled; a replay (a higher run) runs normally. */
  run: z.int().min(1),
  reason: Reason,
  /** ISO-8601 time the cancel was requested. */
  requestedAt: z.iso.datetime(),
  /**
   * ISO-8601 time `JOBS` stored the cancel command. A job of this id submitted later (the id used
   * again once the duplicate windows have passed) is another job, which this record does not
   * cancel. Records of dispatchers before this field cancel every run up to `run`.
   */
  storedAt: z.iso.datetime().optional(),
});
export type CancellationRecord = z.infer<typeof CancellationRecord>;

/** What a cancellation is matched against: a run of a job, and when its submission was stored. */
export interface CancellableRun {
  id: string;
  run: number;
  /** ISO-8601 time the intake stream stored the job's submission (a work item's `submittedAt`). */
  submittedAt: string;
}

/**
 * Whether `record` cancels `job`: a run up to the record's, of a job submitted no later than the
 * cancel command was stored. Both times are the stream's, so a job submitted after the cancel (its
 * id used again) is never taken for the cancelled one.
 */
export function cancelsRun(record: CancellationRecord, job: CancellableRun): boolean {
  if (job.run > record.run) return false;
  if (record.storedAt === undefined) return true;
  return Date.parse(job.submittedAt) <= Date.parse(record.storedAt);
}

/**
 * Whether `stored` makes `incoming` (a record of the same job) redundant: it cancels a later run,
 * or the same run from a later command, which covers every job the earlier one does.
 */
export function supersedesCancellation(
  stored: CancellationRecord,
  incoming: CancellationRecord,
): boolean {
  if (stored.run !== incoming.run) return stored.run > incoming.run;
  if (stored.storedAt === undefined || incoming.storedAt === undefined) return false;
  return Date.parse(stored.storedAt) > Date.parse(incoming.storedAt);
}

/** Where a dead letter is: its sequence in the `DLQ` stream, and the job run it holds. */
const LetterRef = {
  jobId: JobId,
  /** The dead run; a letter of another run is left alone. */
  run: z.int().min(1),
  /** The letter's sequence in the `DLQ` stream. */
  seq: z.int().min(1),
  /** ISO-8601 time the command was requested. */
  requestedAt: z.iso.datetime(),
};

/**
 * Replay a dead-lettered job, published to `jobs.cmd.replay.<jobId>`: the letter's work item is
 * queued again as the next run (same job id, fresh attempts) and the letter leaves the `DLQ`.
 */
export const ReplayCommand = z.object(LetterRef).strict();
export type ReplayCommand = z.infer<typeof ReplayCommand>;

/**
 * Drop a dead letter without running the job again, published to `jobs.cmd.discard.<jobId>`: the
 * letter leaves the `DLQ` and the discard is recorded in the dead-letter log.
 */
export const DiscardCommand = z.object({ ...LetterRef, reason: Reason.optional() }).strict();
export type DiscardCommand = z.infer<typeof DiscardCommand>;

/**
 * `Nats-Msg-Id` of a command: `cmd:<verb>:<jobId>:<run>:<requestId>`, where `requestId` is unique
 * to the request that sends it. A publish retried within that request (a PubAck lost) is stored
 * once, while the same command sent again later is stored again: the dispatcher may have given up
 * on the first after its deliveries failed, and carrying out a command is idempotent, so a repeat
 * of one that was carried out changes nothing.
 */
export function commandMsgId(
  verb: CommandVerb,
  jobId: string,
  run: number,
  requestId: string,
): string {
  return `${MsgIdPrefix.Command}${verb}:${jobId}:${run}:${requestId}`;
}
