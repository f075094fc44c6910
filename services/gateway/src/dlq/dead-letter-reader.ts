import { DeadLetter, DeadLetterLogEntry, StreamName, Subject } from "@conveyor/contracts";
import type { Logger } from "@conveyor/service-kit";
import type { JetStreamManager, StoredMsg } from "@nats-io/jetstream";

/** A dead letter and where it is in the `DLQ` stream. */
export interface StoredLetter {
  /** The letter's sequence in `DLQ`. */
  seq: number;
  letter: DeadLetter;
}

/** One page of letters, oldest first. */
export interface LetterPage {
  items: StoredLetter[];
  /** The sequence of the last letter of the page when more follow; null on the last page. */
  lastSeq: number | null;
}

/** Options of {@link DeadLetterReader.list}. */
export interface ListLettersOptions {
  /** Only letters of this job type. */
  type?: string | undefined;
  limit: number;
  /** Start after this `DLQ` sequence (the previous page's `lastSeq`). */
  afterSeq?: number | undefined;
}

/**
 * Reads dead letters straight from the `DLQ` stream, one stored message per request
 * (`next_by_subj`, so deleted letters cost nothing). The stream is the set of letters still to be
 * dealt with: the dispatcher deletes a letter once it replayed or discarded it.
 */
export class DeadLetterReader {
  readonly #jsm: JetStreamManager;
  readonly #logger: Logger;

  constructor(jsm: JetStreamManager, logger: Logger) {
    this.#jsm = jsm;
    this.#logger = logger;
  }

  /** Letters in stream order (oldest first), `limit` per page. */
  async list(options: ListLettersOptions): Promise<LetterPage> {
    const subject = options.type === undefined ? Subject.dlqAll : Subject.dlq(options.type);
    const items: StoredLetter[] = [];
    for await (const letter of this.#letters(subject, (options.afterSeq ?? 0) + 1)) {
      if (items.length === options.limit) {
        return { items, lastSeq: items.at(-1)?.seq ?? null };
      }
      items.push(letter);
    }
    return { items, lastSeq: null };
  }

  /** The job's newest letter (highest run) among the letters of its type, if any. */
  async findByJob(jobId: string, type: string): Promise<StoredLetter | undefined> {
    let found: StoredLetter | undefined;
    for await (const stored of this.#letters(Subject.dlq(type), 1)) {
      if (stored.letter.jobId !== jobId) continue;
      if (found === undefined || (stored.letter.run ?? 1) >= (found.letter.run ?? 1))
        found = stored;
    }
    return found;
  }

  /** Every letter of a type, oldest first, at most `max`; `more` when others follow. */
  async allOfType(type: string, max: number): Promise<{ letters: StoredLetter[]; more: boolean }> {
    const letters: StoredLetter[] = [];
    for await (const letter of this.#letters(Subject.dlq(type), 1)) {
      if (letters.length === max) return { letters, more: true };
      letters.push(letter);
    }
    return { letters, more: false };
  }

  /** The newest entry of the job's dead-letter log (its last replay or discard), if any. */
  async lastLogEntry(jobId: string): Promise<DeadLetterLogEntry | undefined> {
    const stored = await this.#jsm.streams.getMessage(StreamName.Dlq, {
      last_by_subj: Subject.deadLetterLog(jobId),
    });
    if (stored === null) return undefined;
    const parsed = DeadLetterLogEntry.safeParse(json(stored));
    return parsed.success ? parsed.data : undefined;
  }

  async *#letters(subject: string, fromSeq: number): AsyncGenerator<StoredLetter> {
    let seq = fromSeq;
    for (;;) {
      // `next_by_subj` is part of the server's message-get request; nats.js types only `seq`.
      const query: { seq: number; next_by_subj: string } = { seq, next_by_subj: subject };
      const stored = await this.#jsm.streams.getMessage(StreamName.Dlq, query);
      if (stored === null) return;
      seq = stored.seq + 1;
      const parsed = DeadLetter.safeParse(json(stored));
      if (parsed.success) {
        yield { seq: stored.seq, letter: parsed.data };
      } else {
        this.#logger.warn(
          { seq: stored.seq, subject: stored.subject },
          "DLQ message is not a dead letter",
        );
      }
    }
  }
}

function json(stored: StoredMsg): unknown {
  try {
    return stored.json();
  } catch {
    return undefined;
  }
}
