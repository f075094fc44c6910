import { DeadLetterAction } from "@conveyor/contracts";
import type { DeadLetterLogEntry, DiscardCommand } from "@conveyor/contracts";

import type { LetterCommandDeps, LetterCommandOutcome } from "./replay-job.ts";

/**
 * Discards a dead letter: the discard is written to the dead-letter log, then the letter is removed
 * from `dlq.<type>`. The job stays `dead`. Repeating the command once the letter is gone changes
 * nothing.
 */
export async function discardLetter(
  command: DiscardCommand,
  deps: LetterCommandDeps,
): Promise<LetterCommandOutcome> {
  const { jobId, run, seq } = command;
  const lookup = await deps.letters.find(seq, jobId, run);
  if (lookup.kind === "gone") return { kind: "gone", jobId, run, seq };
  if (lookup.kind === "mismatch") {
    return { kind: "refused", jobId, run, seq, message: lookup.message };
  }
  const { letter, subject, header } = lookup.letter;
  const attrs = { subject, jobId, jobType: letter.type };
  await deps.tracing.consume(header, attrs, async (context) => {
    const entry: DeadLetterLogEntry = {
      action: DeadLetterAction.Discarded,
      jobId,
      type: letter.type,
      run,
      seq,
      at: deps.now().toISOString(),
      requestedAt: command.requestedAt,
    };
    if (command.reason !== undefined) entry.reason = command.reason;
    await deps.publisher.deadLetterLog(context, entry);
    await deps.letters.remove(seq);
  });
  return { kind: "discarded", jobId, run, seq };
}
