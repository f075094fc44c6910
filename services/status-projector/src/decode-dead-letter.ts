import {
  DeadLetter,
  DeadLetterLogEntry,
  exceedsDepth,
  maxMessageDepth,
  StreamName,
  Subject,
  toValidationIssues,
  typeFromDlqSubject,
} from "@conveyor/contracts";
import type { ValidationIssue } from "@conveyor/contracts";
import type { DeadLetterFact } from "@conveyor/read-model";

/** What one message on the `DLQ` stream turned out to be. */
export type DecodedDlqMessage =
  | { type: "fact"; fact: DeadLetterFact }
  | { type: "invalid"; reason: string; issues: ValidationIssue[] };

const decoder = new TextDecoder();
const logPrefix = Subject.deadLetterLog("");

/**
 * Parses and validates a message of the `DLQ` stream: a `DeadLetter` on `dlq.<type>` (stored at
 * stream sequence `seq`) or a `DeadLetterLogEntry` on `dlq-log.<jobId>`. The subject must agree
 * with the body (same type, same job), so a message never lands on another job's document. Never
 * throws: a body nested deeper than {@link maxMessageDepth} or one that fails validation in any way
 * is `invalid`.
 */
export function decodeDeadLetterMessage(
  subject: string,
  seq: number,
  data: Uint8Array,
): DecodedDlqMessage {
  try {
    return decode(subject, seq, data);
  } catch (err) {
    // Validation must never stall the mailbox: whatever it throws makes the message invalid.
    return invalid("undecodable", "(root)", err instanceof Error ? err.message : String(err));
  }
}

function decode(subject: string, seq: number, data: Uint8Array): DecodedDlqMessage {
  const logJobId = subject.startsWith(logPrefix) ? subject.slice(logPrefix.length) : undefined;
  const letterType = logJobId === undefined ? typeFromDlqSubject(subject) : undefined;
  if (logJobId === undefined && letterType === undefined) {
    return invalid(
      "invalid_subject",
      "(subject)",
      `expected dlq.<type> or dlq-log.<jobId>, got ${subject}`,
    );
  }
  let body: unknown;
  try {
    body = JSON.parse(decoder.decode(data));
  } catch (err) {
    return invalid("invalid_json", "(root)", err instanceof Error ? err.message : String(err));
  }
  if (exceedsDepth(body, maxMessageDepth)) {
    return invalid("too_deep", "(root)", `nested deeper than ${maxMessageDepth} levels`);
  }
  if (logJobId !== undefined) {
    const parsed = DeadLetterLogEntry.safeParse(body);
    if (!parsed.success) return invalidSchema(parsed.error);
    if (parsed.data.jobId !== logJobId) return mismatch("jobId", logJobId);
    return { type: "fact", fact: { kind: "log", entry: parsed.data } };
  }
  const parsed = DeadLetter.safeParse(body);
  if (!parsed.success) return invalidSchema(parsed.error);
  if (parsed.data.type !== letterType) return mismatch("type", letterType ?? "");
  const position = { stream: StreamName.Dlq, subject, seq };
  return { type: "fact", fact: { kind: "letter", letter: parsed.data, position } };
}

function invalid(reason: string, path: string, message: string): DecodedDlqMessage {
  return { type: "invalid", reason, issues: [{ path, message }] };
}

function invalidSchema(error: Parameters<typeof toValidationIssues>[0]): DecodedDlqMessage {
  return { type: "invalid", reason: "invalid_message", issues: toValidationIssues(error) };
}

function mismatch(field: string, fromSubject: string): DecodedDlqMessage {
  return invalid("subject_mismatch", field, `${field} differs from the subject's ${fromSubject}`);
}
