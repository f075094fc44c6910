import { Header, StreamName, SubmissionSource } from "@conveyor/contracts";
import type { JobSubmissionInput } from "@conveyor/contracts";
import { checkEnvelope } from "@conveyor/job-registry";
import { JetStreamPublisher } from "@conveyor/service-kit";
import { jetstreamManager } from "@nats-io/jetstream";
import type { JetStreamManager } from "@nats-io/jetstream";
import type { MsgHdrs, NatsConnection } from "@nats-io/transport-node";
import { context, propagation } from "@opentelemetry/api";

import { InvalidSubmissionError } from "./errors.ts";
import { submissionMessage } from "./submission-message.ts";

/** Options of a {@link JobClient}. */
export interface JobClientOptions {
  /** Longest wait for JetStream to store a submission, in milliseconds. @default 5000 */
  timeoutMs?: number;
}

/** A job to submit: the submission envelope of `docs/topology.md`, `type` included. */
export type JobToSubmit = JobSubmissionInput;

/** A submission JetStream has stored. */
export interface Submitted {
  /**
   * The job's id: the one given, or a new UUIDv7; for a duplicate, the id of the job first stored
   * under the same idempotency key, when that submission can still be read.
   */
  id: string;
  /** The intake stream already held a submission with this idempotency key (or id): nothing new was stored. */
  duplicate: boolean;
}

/** One job's outcome in {@link JobClient.submitMany}. */
export type SubmitResult = ({ ok: true } & Submitted) | { ok: false; error: Error };

const headerSetter = {
  set(carrier: MsgHdrs, key: string, value: string) {
    carrier.set(key, value);
  },
};

/**
 * Submits jobs over NATS, as a producer that does not go through the REST gateway: each job is
 * checked (the envelope; the payload against its type's schema is the dispatcher's check) and
 * published to `jobs.submit.<type>` with its id as `Nats-Msg-Id`, and a submission resolves once
 * JetStream has stored it. Publishes made in the same turn of the event loop leave in one socket
 * write and share one reply subscription, so {@link submitMany} costs little more per job than the
 * bytes. The active OpenTelemetry context, when an SDK is registered, travels in `traceparent`, so
 * the job's trace starts at the producer.
 */
export class JobClient {
  readonly #nc: NatsConnection;
  readonly #publisher: JetStreamPublisher;
  readonly #timeoutMs: number;
  #jsm: Promise<JetStreamManager> | undefined;

  constructor(nc: NatsConnection, options: JobClientOptions = {}) {
    this.#nc = nc;
    this.#timeoutMs = options.timeoutMs ?? 5000;
    this.#publisher = new JetStreamPublisher(nc, { timeoutMs: this.#timeoutMs });
  }

  /**
   * Submits one job and resolves once JetStream has stored it.
   *
   * @throws {InvalidSubmissionError} naming the bad fields; nothing was published.
   * @throws the publish's error (a timeout, no stream) when JetStream did not confirm it: publish
   *   the same job again (same `id` or `idempotencyKey`) and it is stored at most once.
   */
  async submit(job: JobToSubmit): Promise<Submitted> {
    const checked = checkEnvelope(job);
    if (!checked.ok)
      throw new InvalidSubmissionError(checked.reason, checked.message, checked.issues);
    const message = submissionMessage(checked.submission, SubmissionSource.Nats);
    propagation.inject(context.active(), message.headers, headerSetter);
    const ack = await this.#publisher.publish(message.subject, message.body, {
      msgID: message.msgID,
      headers: message.headers,
    });
    if (!ack.duplicate) return { id: message.id, duplicate: false };
    return { id: await this.#originalId(ack.seq, message.id), duplicate: true };
  }

  /**
   * Submits many jobs at once, resolving with one result per job in their order. A job refused or
   * not stored does not hold back the others; submit it again to retry.
   */
  submitMany(jobs: readonly JobToSubmit[]): Promise<SubmitResult[]> {
    return Promise.all(
      jobs.map((job) =>
        this.submit(job).then(
          (submitted): SubmitResult => ({ ok: true, ...submitted }),
          (err: unknown): SubmitResult => ({
            ok: false,
            error: err instanceof Error ? err : new Error(String(err)),
          }),
        ),
      ),
    );
  }

  /**
   * Refuses new submissions and resolves once every pending one is stored or has timed out. The
   * connection stays the caller's to close.
   */
  close(): Promise<void> {
    return this.#publisher.close();
  }

  /** The job id of the stored submission a duplicate collapsed into (its PubAck's sequence). */
  async #originalId(seq: number, fallback: string): Promise<string> {
    try {
      this.#jsm ??= jetstreamManager(this.#nc, { timeout: this.#timeoutMs });
      const stored = await (await this.#jsm).streams.getMessage(StreamName.Jobs, { seq });
      return stored?.header.get(Header.JobId) || fallback;
    } catch {
      // The original may be gone (the stream's limits); the id sent is the best answer left.
      return fallback;
    }
  }
}
