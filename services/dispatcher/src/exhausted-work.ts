import {
  Header,
  StreamName,
  parseWorkSubject,
  typeFromWorkSubject,
  workConsumerName,
} from "@conveyor/contracts";
import { storedHeadersOrEmpty } from "@conveyor/service-kit";
import type { Tracing } from "@conveyor/telemetry";
import type { JetStreamManager, StoredMsg } from "@nats-io/jetstream";

import type { DeadLetterObserver, FoundBy } from "./dead-letter-metrics.ts";
import type { DeadLetterPublisher } from "./dead-letter-publisher.ts";
import { deadRecordsFor } from "./work-dead-letter.ts";
import type { StoredWork } from "./work-dead-letter.ts";

/** What became of a work message that ran out of deliveries. */
export type ExhaustedOutcome =
  | { kind: "dead-lettered"; seq: number; jobId: string | undefined; type: string }
  /** Not in the work stream any more: acknowledged, or dead-lettered and termed by its worker. */
  | { kind: "gone"; seq: number }
  /** The message at that sequence is not the one the advisory is about; `why` says so. */
  | { kind: "unrelated"; seq: number; why: string };

/** What a max-deliveries advisory says of the message it names, to check it against. */
export interface AdvisoryClaim {
  /** The consumer that gave up on it. */
  consumer: string;
  /** When the advisory was stored (its `ADVISORIES` time): the message is older than that. */
  capturedAt: Date;
}

export interface ExhaustedWorkDeps {
  jsm: JetStreamManager;
  publisher: DeadLetterPublisher;
  tracing: Tracing;
  /** The clock, for the dead letter's time. */
  now: () => Date;
  /** Told of every letter this dispatcher stored (not of one the DLQ already had). */
  observer?: DeadLetterObserver | undefined;
}

/**
 * Dead-letters a work message JetStream stopped delivering. The message stays in the workqueue
 * stream after its last delivery, so it is read by sequence, published to the DLQ with a `dead`
 * event, and only then deleted: a failure at any step leaves it where it is, to be tried again.
 * Every step is idempotent (deduplicated publishes, a delete of a deleted message counts as done),
 * so a repeated advisory or a concurrent scan cannot produce a second dead letter.
 */
export class ExhaustedWork {
  readonly #deps: ExhaustedWorkDeps;

  constructor(deps: ExhaustedWorkDeps) {
    this.#deps = deps;
  }

  /**
   * Dead-letters the work message at `seq` after `deliveries` deliveries, in a CONSUMER span that
   * continues the job's trace. `foundBy` says what found the message, for metrics. Rejects when
   * something could not be stored or deleted.
   */
  async deadLetter(
    seq: number,
    deliveries: number,
    foundBy: FoundBy,
    claim?: AdvisoryClaim,
  ): Promise<ExhaustedOutcome> {
    const { jsm, publisher, tracing, now, observer } = this.#deps;
    const found = await jsm.streams.getMessage(StreamName.Work, { seq });
    if (found === null) return { kind: "gone", seq };
    const why = claim === undefined ? undefined : unrelatedBecause(found, claim);
    if (why !== undefined) return { kind: "unrelated", seq, why };
    const stored = readableWork(found);
    const attrs = {
      subject: stored.subject,
      jobId: stored.header.get(Header.JobId) || undefined,
      jobType: typeFromWorkSubject(stored.subject),
      attempt: deliveries,
    };
    return tracing.consume(stored.header, attrs, async (context) => {
      const { letter, event } = deadRecordsFor(stored, {
        deliveries,
        traceId: tracing.traceIdOf(context),
        at: now(),
      });
      // The job failed here: no handler threw to say so in its trace.
      tracing.markFailed(context, `dead: ${letter.reason}: ${letter.error.message}`);
      const ack = await publisher.deadLetter(context, letter, stored.header);
      // Counted once stored: a repeated advisory, a scan racing it, or a retry after a failed
      // delete finds the letter there already (as it does one its worker stored).
      if (!ack.duplicate) observer?.deadLettered(letter.type, foundBy);
      if (event !== undefined) await publisher.dead(context, event);
      await this.#remove(seq);
      return { kind: "dead-lettered", seq, jobId: letter.jobId, type: letter.type };
    });
  }

  async #remove(seq: number): Promise<void> {
    const { jsm } = this.#deps;
    try {
      // No erase: the message is in the DLQ now, overwriting its bytes on disk buys nothing.
      await jsm.streams.deleteMessage(StreamName.Work, seq, false);
    } catch (err) {
      // The server answers a delete of a missing message with an error; someone removed it first.
      if ((await jsm.streams.getMessage(StreamName.Work, { seq })) === null) return;
      throw err;
    }
  }
}

/**
 * The stored work message, its headers read once: nats.js throws on a header name it would not
 * send itself (a space in it), which other clients send as given. Such a message is dead-lettered
 * from its body alone, without the trace and hints its headers carried; else every advisory and
 * scan would fail on it, and it would stay in `WORK` for good.
 */
function readableWork(stored: StoredMsg): StoredWork {
  const { subject, seq, data } = stored;
  return { subject, seq, data, header: storedHeadersOrEmpty(stored) };
}

/**
 * Why the work message at an advisory's sequence is not the one the advisory is about, or
 * undefined when it may be. An advisory left from before `WORK` was provisioned anew (sequences
 * start again at 1) names a job stored after it; one published by a client that may publish on
 * `$JS.EVENT.>` may name any. Neither may dead-letter a job its consumer never gave up on.
 */
function unrelatedBecause(found: StoredMsg, claim: AdvisoryClaim): string | undefined {
  if (found.time.getTime() > claim.capturedAt.getTime()) {
    return `the message was stored at ${found.time.toISOString()}, after the advisory (${claim.capturedAt.toISOString()})`;
  }
  const lane = parseWorkSubject(found.subject);
  if (lane !== undefined && workConsumerName(lane.type, lane.priority) !== claim.consumer) {
    return `the message is on ${found.subject}, which ${claim.consumer} does not deliver`;
  }
  return undefined;
}
