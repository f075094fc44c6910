import { DeadLetterAction, Header, SubmissionSource } from "@conveyor/contracts";
import type { DeadLetterLogEntry, ReplayCommand, WorkItem } from "@conveyor/contracts";
import type { Tracing } from "@conveyor/telemetry";

import type { DeadLetterStore } from "./dead-letter-store.ts";
import type { DispatchPublisher } from "./publisher.ts";
import { queuedEventFor } from "./records.ts";

export interface LetterCommandDeps {
  letters: DeadLetterStore;
  publisher: DispatchPublisher;
  tracing: Tracing;
  /** The clock, for event and log times. */
  now: () => Date;
}

/** What a replay or discard command did. */
export type LetterCommandOutcome =
  | { kind: "replayed"; jobId: string; run: number; seq: number }
  | { kind: "discarded"; jobId: string; run: number; seq: number }
  /** The letter was no longer there: replayed, discarded or expired before. */
  | { kind: "gone"; jobId: string; run: number; seq: number }
  /** The command cannot be carried out (stale place, a letter without a work item). */
  | { kind: "refused"; jobId: string; run: number; seq: number; message: string };

/**
 * Replays a dead-lettered job: its work item goes back to `work.<type>` as the next run (same id,
 * `Nats-Msg-Id` `<jobId>:<run>`, so its attempts start afresh) with a `queued` event of that run,
 * the replay is written to the dead-letter log, and only then is the letter removed. It all happens
 * in a span of the job's own trace (continued from the letter). Each step is idempotent, so a
 * command repeated after a failure finishes the job; once the letter is gone it changes nothing.
 */
export async function replayJob(
  command: ReplayCommand,
  deps: LetterCommandDeps,
): Promise<LetterCommandOutcome> {
  const { jobId, run, seq } = command;
  const lookup = await deps.letters.find(seq, jobId, run);
  if (lookup.kind === "gone") return { kind: "gone", jobId, run, seq };
  if (lookup.kind === "mismatch") {
    return { kind: "refused", jobId, run, seq, message: lookup.message };
  }
  const { letter, subject, header } = lookup.letter;
  if (letter.workItem === undefined) {
    const message = "the dead letter holds no readable work item; it can only be discarded";
    return { kind: "refused", jobId, run, seq, message };
  }
  const item: WorkItem = { ...letter.workItem, run: run + 1 };
  const source =
    header.get(Header.Source) === SubmissionSource.Rest
      ? SubmissionSource.Rest
      : SubmissionSource.Nats;
  const attrs = { subject, jobId, jobType: item.type, attempt: letter.attempts };
  await deps.tracing.consume(header, attrs, async (context) => {
    const now = deps.now();
    const event = queuedEventFor(item, source, deps.tracing.traceIdOf(context), now);
    // The work item first: a replay whose item cannot be stored leaves the job dead with its
    // letter (a queued event first would leave it reading queued with nothing queued, if the
    // command were given up). A run whose queued event is missing still runs, as at intake; its
    // retries collapse on the message ids.
    await deps.publisher.work(context, item, source);
    await deps.publisher.queued(context, event);
    const entry: DeadLetterLogEntry = {
      action: DeadLetterAction.Replayed,
      jobId,
      type: item.type,
      run,
      seq,
      at: now.toISOString(),
      requestedAt: command.requestedAt,
      replayRun: item.run,
    };
    await deps.publisher.deadLetterLog(context, entry);
    await deps.letters.remove(seq);
  });
  return { kind: "replayed", jobId, run: item.run, seq };
}
