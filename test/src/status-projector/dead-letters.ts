import { StreamName, Subject, deadLetterLogMsgId, deadLetterMsgId } from "@conveyor/contracts";
import type { DeadLetter, DeadLetterLogEntry } from "@conveyor/contracts";
import { applyDeadLetterFact } from "@conveyor/read-model";
import type { DeadLetterDocument, JsonValue } from "@conveyor/read-model";
import type { JetStreamClient, JetStreamManager } from "@nats-io/jetstream";

/** A dead letter of run `run` of a job, as a worker publishes it. */
export function deadLetter(
  jobId: string,
  options: { type?: string; run?: number; payload?: JsonValue } = {},
): DeadLetter {
  const type = options.type ?? "report.build";
  const run = options.run ?? 1;
  return {
    type,
    jobId,
    run,
    workItem: {
      id: jobId,
      type,
      payload: options.payload ?? { n: 1 },
      priority: 5,
      maxAttempts: 2,
      timeoutMs: 1000,
      submittedAt: "2026-01-01T10:00:00.000Z",
      run,
    },
    error: { name: "Error", message: `run ${run} of ${jobId} failed` },
    reason: "attempts_exhausted",
    attempts: 2,
    deadAt: `2026-01-01T10:0${run}:00.000Z`,
    source: { stream: StreamName.Work, subject: Subject.work(type), seq: 100 + run },
    workerId: "worker-1",
    traceId: `trace-${jobId}-${run}`,
  };
}

/** The dispatcher's log entry of a replay or discard of a job's letter at DLQ sequence `seq`. */
export function logEntry(
  letter: DeadLetter,
  action: "replayed" | "discarded",
  seq: number,
  at = "2026-01-01T11:00:00.000Z",
): DeadLetterLogEntry {
  const run = letter.run ?? 1;
  return {
    action,
    jobId: letter.jobId ?? "",
    type: letter.type,
    run,
    seq,
    at,
    requestedAt: at,
    ...(action === "replayed" ? { replayRun: run + 1 } : { reason: "obsolete" }),
  };
}

/** Publishes a letter to `dlq.<type>` (with its `Nats-Msg-Id`, as everyone does); returns its DLQ sequence. */
export async function publishLetter(js: JetStreamClient, letter: DeadLetter): Promise<number> {
  const ack = await js.publish(Subject.dlq(letter.type), JSON.stringify(letter), {
    msgID: deadLetterMsgId(letter),
  });
  return ack.seq;
}

/**
 * Does what the dispatcher does to settle a letter: writes the log entry to `dlq-log.<jobId>`,
 * then deletes the letter from the DLQ.
 */
export async function settleLetter(
  js: JetStreamClient,
  jsm: JetStreamManager,
  entry: DeadLetterLogEntry,
): Promise<void> {
  await js.publish(Subject.deadLetterLog(entry.jobId), JSON.stringify(entry), {
    msgID: deadLetterLogMsgId(entry),
  });
  await jsm.streams.deleteMessage(StreamName.Dlq, entry.seq, false);
}

/** What the reducer makes of a job's letters (with their sequences) and log entries, in this order. */
export function reduceDeadLetters(
  messages: readonly ({ letter: DeadLetter; seq: number } | { entry: DeadLetterLogEntry })[],
): DeadLetterDocument | undefined {
  return messages.reduce<DeadLetterDocument | undefined>(
    (doc, message) =>
      applyDeadLetterFact(
        doc,
        "entry" in message
          ? { kind: "log", entry: message.entry }
          : {
              kind: "letter",
              letter: message.letter,
              position: {
                stream: StreamName.Dlq,
                subject: Subject.dlq(message.letter.type),
                seq: message.seq,
              },
            },
      ),
    undefined,
  );
}
