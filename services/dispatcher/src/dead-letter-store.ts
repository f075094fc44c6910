import { DeadLetter, StreamName, jsonOrUndefined } from "@conveyor/contracts";
import { storedHeadersOrEmpty } from "@conveyor/service-kit";
import type { JetStreamManager } from "@nats-io/jetstream";
import type { MsgHdrs } from "@nats-io/transport-node";

/** A dead letter as stored in the `DLQ` stream. */
export interface StoredLetter {
  seq: number;
  subject: string;
  letter: DeadLetter;
  /**
   * The letter's headers: the work message's, with the dead-lettering span's trace context. Read
   * once, and empty when nats.js cannot read them (a header name with a space, which other clients
   * send as given): such a letter is replayed or discarded without the trace they carried, where
   * reading them would fail the command on every delivery.
   */
  header: MsgHdrs;
}

/** What is at a letter's place. */
export type LetterLookup =
  | { kind: "found"; letter: StoredLetter }
  /** Nothing: replayed, discarded or expired already. */
  | { kind: "gone" }
  /** Something else than the letter the command names; the command is stale or wrong. */
  | { kind: "mismatch"; message: string };

/**
 * Reads and removes dead letters by their sequence in the `DLQ` stream (the gateway finds the
 * sequence; a command carries it). Removal is idempotent: a letter already gone counts as removed.
 */
export class DeadLetterStore {
  readonly #jsm: JetStreamManager;

  constructor(jsm: JetStreamManager) {
    this.#jsm = jsm;
  }

  /** The letter at `seq`, checked to be the named job's letter of `run`. */
  async find(seq: number, jobId: string, run: number): Promise<LetterLookup> {
    const stored = await this.#jsm.streams.getMessage(StreamName.Dlq, { seq });
    if (stored === null) return { kind: "gone" };
    const parsed = readLetter(stored.data);
    if (parsed === undefined || !parsed.success) {
      return { kind: "mismatch", message: `DLQ message ${seq} is not a dead letter` };
    }
    const letter = parsed.data;
    if (letter.jobId !== jobId || (letter.run ?? 1) !== run) {
      return {
        kind: "mismatch",
        message: `DLQ message ${seq} holds job ${letter.jobId ?? "(unknown)"} run ${letter.run ?? 1}, not ${jobId} run ${run}`,
      };
    }
    return {
      kind: "found",
      letter: { seq, subject: stored.subject, letter, header: storedHeadersOrEmpty(stored) },
    };
  }

  async remove(seq: number): Promise<void> {
    try {
      await this.#jsm.streams.deleteMessage(StreamName.Dlq, seq, false);
    } catch (err) {
      // The server answers a delete of a missing message with an error; someone removed it first.
      if ((await this.#jsm.streams.getMessage(StreamName.Dlq, { seq })) === null) return;
      throw err;
    }
  }
}

/** The letter's parse, or undefined when parsing threw (JSON nested deep enough to overflow zod). */
function readLetter(data: Uint8Array): ReturnType<typeof DeadLetter.safeParse> | undefined {
  try {
    return DeadLetter.safeParse(jsonOrUndefined(data));
  } catch {
    return undefined;
  }
}
