import { bulkMessages, maxBulkMessageBytes, submissionMessage } from "@conveyor/client";
import type { BulkJob, BulkMessage, SubmissionMessage } from "@conveyor/client";
import { Header, Subject, SubmissionSource } from "@conveyor/contracts";
import type { JobSubmission } from "@conveyor/contracts";
import { FieldsCarrier } from "@conveyor/telemetry";
import { JetStreamApiError } from "@nats-io/jetstream";
import type { TraceContext } from "@conveyor/telemetry";

import type { GatewayDeps } from "../deps.ts";
import { natsNotConnected, submissionNotStored } from "../errors.ts";
import type { NatsOut } from "./nats-out.ts";
import type { SubmitOutcome } from "./publish-submission.ts";

type BatcherDeps = Pick<GatewayDeps, "nc" | "tracing" | "options">;

/**
 * A submission waiting for the end of the turn, with its id fixed, the context of its PRODUCER
 * span, and how to answer its request. Its message is built only once it is known how it leaves:
 * on its own, or as an entry of a bulk.
 */
interface Waiting {
  job: JobSubmission & { id: string };
  context: TraceContext;
  stored: () => void;
  failed: (err: unknown) => void;
}

/**
 * Group commit for `POST /v1/jobs`. The submissions that need no deduplication (neither an id nor
 * an idempotency key: the gateway makes the id, so no earlier job can have it) and arrive within
 * one turn of the event loop are stored together: as bulk submissions of their type, one stored
 * message, one PubAck and one delivery to the dispatcher for up to 1,000 jobs, instead of one
 * each. A submission alone in its turn, the usual case below a few hundred requests a second, is
 * published on its own as before, and so is one with an id or key (see `publishSubmission`, which
 * answers duplicates). Each job keeps its own trace: its PRODUCER span's context travels in the
 * job's `traceparent` field, which the dispatcher continues. Every request is answered once its
 * job is stored, as a lone one is.
 */
export class SubmissionBatcher {
  readonly #deps: BatcherDeps;
  readonly #out: NatsOut;
  #waiting: Waiting[] = [];

  constructor(deps: BatcherDeps, out: NatsOut) {
    this.#deps = deps;
    this.#out = out;
  }

  /**
   * Stores a checked submission the client sent without id or key, with the id the gateway made
   * for it; resolves as `publishSubmission` does.
   */
  submit(job: JobSubmission & { id: string }, parent: TraceContext): Promise<SubmitOutcome> {
    if (!this.#out.link.up) throw natsNotConnected("the job was not submitted");
    const { tracing } = this.#deps;
    const attributes = { subject: Subject.submit(job.type), jobId: job.id, jobType: job.type };
    return tracing.produce(parent, attributes, async (context) => {
      await new Promise<void>((stored, failed) => {
        this.#waiting.push({ job, context, stored, failed });
        if (this.#waiting.length === 1) setImmediate(this.#flush);
      });
      return { id: job.id, traceId: tracing.traceIdOf(context), duplicate: false };
    });
  }

  readonly #flush = (): void => {
    const waiting = this.#waiting;
    this.#waiting = [];
    if (!this.#out.link.up) {
      // Sent now, it would wait in the client for the reconnection, after its request's 503.
      const down = natsNotConnected("the job was not submitted");
      for (const member of waiting) member.failed(down);
      return;
    }
    try {
      this.#sendGathered(waiting);
    } catch (err) {
      // Only a bug gets here; no request may be left waiting for an answer.
      for (const member of waiting) member.failed(submissionNotStored(member.job.id, err));
    }
    // Written now rather than a turn later: the gathering has already waited for this turn's end.
    this.#out.publisher.flush();
  };

  #sendGathered(waiting: readonly Waiting[]): void {
    const [only] = waiting;
    if (waiting.length === 1 && only !== undefined) {
      this.#send([only], this.#alone(only));
      return;
    }
    const jobs: BulkJob[] = waiting.map(({ job, context }, index) => {
      const carrier = new FieldsCarrier();
      this.#deps.tracing.inject(context, carrier);
      return {
        index,
        id: job.id,
        type: job.type,
        json: JSON.stringify({ ...job, ...carrier.fields }),
      };
    });
    for (const bulk of bulkMessages(jobs, maxBulkMessageBytes(this.#deps.nc))) {
      const members = bulk.jobs.map((job) => waiting[job.index] as Waiting);
      const [first] = members;
      if (members.length === 1 && first !== undefined) this.#send(members, this.#alone(first));
      else this.#send(members, bulkMessage(bulk));
    }
  }

  /** The message of a job that leaves on its own, as `publishSubmission` builds one. */
  #alone(member: Waiting): SubmissionMessage {
    const message = submissionMessage(member.job, SubmissionSource.Rest);
    this.#deps.tracing.inject(member.context, message.headers);
    return message;
  }

  /**
   * Publishes one message and answers the requests of the jobs in it. A bulk the stream refuses
   * (a `JetStreamApiError`: nothing of it was stored, e.g. over the stream's `max_msg_size`) is
   * sent again job by job, so that gathering jobs never refuses one that alone would be stored;
   * after any other failure (a timeout: it may be stored) every job's request is answered 503.
   */
  #send(
    members: readonly Waiting[],
    message: SubmissionMessage | BulkMessage,
    resent = false,
  ): void {
    const { subject, body, headers, msgID } = message;
    // A job sent alone after its bulk was refused says so: a batch of one, not the bulk's count.
    const batchSize = members.length > 1 || resent ? members.length : undefined;
    for (const member of members) this.#deps.tracing.sentTo(member.context, subject, batchSize);
    this.#out.publisher
      .publish(subject, body, { msgID, headers, timeout: this.#deps.options.publishTimeoutMs })
      .then(
        () => {
          // A job whose id the gateway has just made cannot be a duplicate of an earlier one.
          for (const member of members) member.stored();
        },
        (err: unknown) => {
          if (members.length > 1 && err instanceof JetStreamApiError) {
            for (const member of members) this.#send([member], this.#alone(member), true);
            return;
          }
          for (const member of members) member.failed(submissionNotStored(member.job.id, err));
        },
      );
  }
}

/** A bulk of REST submissions: the dispatcher takes the source from the message's header. */
function bulkMessage(bulk: BulkMessage): BulkMessage {
  bulk.headers.append(Header.Source, SubmissionSource.Rest);
  return bulk;
}
