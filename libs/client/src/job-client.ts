import { JobId, SubmissionSource, defaultMaxSubmissionBytes } from "@conveyor/contracts";
import type { JobEvent, JobSubmission, JobSubmissionInput } from "@conveyor/contracts";
import { checkEnvelope, claimedId, repeatedIds } from "@conveyor/job-registry";
import {
  ChurnTable,
  JetStreamPublisher,
  PublisherClosedError,
  RepliesRefusedError,
  isMessageTooLarge,
  maxTimerMs,
} from "@conveyor/service-kit";
import { injectTraceContext, traceIdOfContext } from "@conveyor/telemetry";
import type { Tracing } from "@conveyor/telemetry";
import { jetstreamManager } from "@nats-io/jetstream";
import type { JetStreamManager } from "@nats-io/jetstream";
import {
  InvalidArgumentError,
  NoRespondersError,
  PermissionViolationError,
  RequestError,
} from "@nats-io/transport-node";
import type { NatsConnection } from "@nats-io/transport-node";
import { context } from "@opentelemetry/api";

import { checkBulkJob, maxBulkMessageBytes } from "./bulk-job.ts";
import { bulkMessages } from "./bulk-messages.ts";
import type { BulkJob, BulkMessage } from "./bulk-messages.ts";
import {
  ClientClosedError,
  InvalidSubmissionError,
  SubmissionNotConfirmedError,
} from "./errors.ts";
import { duplicateJobId, readFirstSubmission } from "./first-submission.ts";
import { followEvents } from "./follow-events.ts";
import { sendBulkOrJobByJob } from "./job-by-job.ts";
import type { FirstSubmission } from "./first-submission.ts";
import type { SubmissionRefusal } from "./errors.ts";
import type { JobOutcome } from "./job-outcome.ts";
import { inRounds, maxRoundBytes } from "./rounds.ts";
import { submissionMessage } from "./submission-message.ts";
import type { SubmissionMessage } from "./submission-message.ts";
import { waitForOutcome } from "./wait-for-outcome.ts";

/** Options of a {@link JobClient}. */
export interface JobClientOptions {
  /** Longest wait for JetStream to confirm a submission stored, in milliseconds. @default 5000 */
  timeoutMs?: number;
  /**
   * Prefix of the subject confirmations come back under, for an account that limits where
   * replies may go. Reading a duplicate's first submission back uses the connection's own: for
   * such an account, set `inboxPrefix` on the connection instead, which covers both.
   * @default the connection's own `inboxPrefix`, else `_INBOX`
   */
  inboxPrefix?: string;
  /**
   * Largest submission sent, in bytes of JSON: the dispatcher's `MAX_SUBMISSION_BYTES`, so that a
   * job it would refuse as `too_large` is refused here instead. @default 262144 (256 KiB)
   */
  maxSubmissionBytes?: number;
  /**
   * The producer's tracing, `Tracing.create({ serviceName, otlpEndpoint })` of
   * `@conveyor/telemetry`: each submission is then a PRODUCER span, a child of the caller's active
   * OpenTelemetry span when there is one, and the job's trace starts there. Without it the client
   * makes no span (one costs a submission about a sixth of its speed): the caller's active span,
   * when an OpenTelemetry SDK runs one, travels in `traceparent`, and otherwise the dispatcher
   * starts the job's trace.
   */
  tracing?: Tracing;
}

/** Options of {@link JobClient.waitFor}. */
export interface WaitForOptions {
  /** Longest wait, in milliseconds. @default 30000 */
  timeoutMs?: number;
  /** Ends the wait early (resolving `undefined`). */
  signal?: AbortSignal;
}

/** A job to submit: the submission envelope of `docs/topology.md`, `type` included. */
export type JobToSubmit = JobSubmissionInput;

/**
 * A job of a bulk: its envelope, and the W3C trace context it continues, when it has one of its
 * own beside the envelope (see {@link JobClient.submitBulk}).
 */
export type BulkJobToSubmit = JobToSubmit & { traceparent?: string; tracestate?: string };

/**
 * A submission JetStream has stored. For a duplicate (the intake stream already held one with
 * the same `Nats-Msg-Id` within its duplicate window, so nothing new was stored), `id` is the
 * job first stored under it: the id itself, or for an `idempotencyKey` the first submission's
 * id as read back from the stream, `undefined` when that can no longer be read.
 */
export type Submitted = (
  { id: string; duplicate: false } | { id: string | undefined; duplicate: true }
) & {
  /**
   * The W3C trace id the submission was sent with (for a duplicate, not the first job's):
   * the client's span's, or the caller's active span's; `undefined` without either.
   */
  traceId: string | undefined;
};

/** One job's outcome in {@link JobClient.submitMany}; `id` as known when it failed. */
export type SubmitResult =
  ({ ok: true } & Submitted) | { ok: false; id: string | undefined; error: Error };

/** One job's result in a bulk message, by its place in the caller's list. */
interface BulkResult {
  index: number;
  result: SubmitResult;
}

/** Whether a job's result is the stream's refusal of its message for the message's size. */
/** Whether the stream refused a whole bulk for its size: nothing of it was stored. */
function allRefusedForSize(results: readonly BulkResult[]): boolean {
  return results.every(refusedForSize);
}

function refusedForSize({ result }: BulkResult): boolean {
  return (
    !result.ok &&
    result.error instanceof SubmissionNotConfirmedError &&
    isMessageTooLarge(result.error.cause)
  );
}

/** The result of a job handed to a closed client: nothing was sent. */
function closedResult(id: string | undefined): SubmitResult {
  return { ok: false, id, error: new ClientClosedError() };
}

/**
 * Bulk messages {@link JobClient.submitBulk} has in flight at once (up to 16,000 jobs), within
 * {@link maxRoundBytes}.
 */
const bulkMessagesPerRound = 16;

/** Submissions {@link JobClient.submitMany} has in flight at once, within {@link maxRoundBytes}. */
const submitManyChunk = 1000;

/** A job checked and built into its message, not sent yet. */
interface Prepared {
  message: SubmissionMessage;
  submission: JobSubmission;
  /** The message body's. */
  bytes: number;
}

/** A job of a `submitMany`: prepared, with its message's bytes, or refused before sending. */
type PreparedOrRefused = { job: JobToSubmit; bytes: number } & (
  { prepared: Prepared; refusal?: undefined } | { prepared?: undefined; refusal: Error }
);

function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}

/**
 * Submits jobs over NATS, for a producer that does not go through the REST gateway. Each job's
 * envelope is checked and its size bounded before anything is sent (the type's registration and
 * its payload schema stay the dispatcher's checks, which record a refusal as a rejection event),
 * then it is published to `jobs.submit.<type>` with its id, or its `idempotencyKey`, as
 * `Nats-Msg-Id`, and a submission resolves once JetStream has stored it. Publishes made in the
 * same turn of the event loop leave in one socket write and share one reply subscription. A
 * submission carries the caller's trace context, or a PRODUCER span of its own when given a
 * tracing (see {@link JobClientOptions.tracing}).
 * One client per connection; {@link close} it before closing the connection.
 */
export class JobClient {
  readonly #nc: NatsConnection;
  readonly #publisher: JetStreamPublisher;
  readonly #timeoutMs: number;
  readonly #maxSubmissionBytes: number;
  /** Submissions not yet settled; a `ChurnTable`, as each adds one and removes it. */
  readonly #inFlight = new ChurnTable<Promise<unknown>>();
  readonly #tracing: Tracing | undefined;
  #jsm: Promise<JetStreamManager> | undefined;
  /** Set by {@link close}: new submissions are refused, those in flight go on. */
  #closing = false;
  /** Aborted by {@link close}: ends the follows still open. */
  readonly #closed = new AbortController();

  /** @throws {RangeError} naming an option out of its range; the connection is not touched. */
  constructor(nc: NatsConnection, options: JobClientOptions = {}) {
    this.#timeoutMs = wholeNumberOption("timeoutMs", options.timeoutMs ?? 5000, maxTimerMs);
    this.#maxSubmissionBytes = wholeNumberOption(
      "maxSubmissionBytes",
      options.maxSubmissionBytes ?? defaultMaxSubmissionBytes,
      Number.MAX_SAFE_INTEGER,
    );
    this.#nc = nc;
    this.#tracing = options.tracing;
    this.#publisher = new JetStreamPublisher(nc, {
      timeoutMs: this.#timeoutMs,
      ...(options.inboxPrefix === undefined ? {} : { inboxPrefix: options.inboxPrefix }),
    });
  }

  /**
   * Submits one job and resolves once JetStream has stored it.
   *
   * @throws {InvalidSubmissionError} naming the bad fields, or `too_large` for a message the
   *   connection would not send (over the server's `max_payload`); nothing was sent.
   * @throws {ClientClosedError} after {@link close}; nothing was sent.
   * @throws {SubmissionNotConfirmedError} when JetStream did not confirm it: submit it again with
   *   the error's `jobId` as `id` (and the same `idempotencyKey`, if any) and it is stored at most
   *   once.
   */
  submit(job: JobToSubmit): Promise<Submitted> {
    if (this.#closing) return Promise.reject(new ClientClosedError());
    return this.#tracked(this.#submit(job));
  }

  /**
   * Submits many jobs, resolving with one result per job in their order, in rounds of up to 1,000
   * jobs and 8 MiB. A job refused or not confirmed does not hold back the others; its result
   * carries the id it was sent with.
   */
  submitMany(jobs: readonly JobToSubmit[]): Promise<SubmitResult[]> {
    if (this.#closing) return Promise.resolve(jobs.map((job) => closedResult(claimedId(job))));
    return this.#tracked(this.#submitMany(jobs));
  }

  async #submitMany(jobs: readonly JobToSubmit[]): Promise<SubmitResult[]> {
    const results: SubmitResult[] = [];
    // In bounded rounds: a confirmation's wait starts when its job is queued.
    const rounds = inRounds(this.#prepareEach(jobs), (entry) => entry.bytes, {
      items: submitManyChunk,
      bytes: maxRoundBytes,
    });
    for (const round of rounds) {
      if (this.#givingUp(results)) {
        for (const job of jobs.slice(results.length)) results.push(closedResult(claimedId(job)));
        break;
      }
      results.push(...(await Promise.all(round.map((entry) => this.#submitPrepared(entry)))));
    }
    return results;
  }

  /**
   * Each job checked and built into its message, or its refusal; nothing is sent. Lazily, so that
   * a round of `submitMany` builds only its own jobs' messages.
   */
  *#prepareEach(jobs: readonly JobToSubmit[]): Generator<PreparedOrRefused> {
    for (const job of jobs) {
      try {
        const prepared = this.#prepare(job);
        yield { job, prepared, bytes: prepared.bytes };
      } catch (err) {
        yield { job, refusal: asError(err), bytes: 0 };
      }
    }
  }

  async #submitPrepared(entry: PreparedOrRefused): Promise<SubmitResult> {
    try {
      if (entry.prepared === undefined) throw entry.refusal;
      return { ok: true, ...(await this.#publishPrepared(entry.prepared)) };
    } catch (err) {
      const id = err instanceof SubmissionNotConfirmedError ? err.jobId : claimedId(entry.job);
      return { ok: false, id, error: asError(err) };
    }
  }

  /**
   * Submits many jobs in bulk messages (`jobs.bulk.<type>`, up to 1,000 jobs of one type each, within
   * the server's `max_payload`), resolving with one result per job in their order. A bulk is one
   * stored message and one acknowledgement for all its jobs, which is what makes it the fast way to
   * submit many; the dispatcher still checks, queues or refuses each job on its own, and the jobs of
   * one bulk share its trace (the client's span, or the caller's active one; without either, each
   * job's trace starts at the dispatcher), unless a job carries a `traceparent` (and `tracestate`) of
   * its own beside its envelope, as a bulk allows and {@link submit} does not: its trace is that one,
   * and its result's `traceId` too. Each job is checked here as {@link submit} does, and a refused one
   * answers its `InvalidSubmissionError` without holding back the others. An `idempotencyKey` is
   * refused: in a bulk a job's `id` (generated when absent) deduplicates it, and a bulk sent again
   * with the same jobs is stored once within the intake's duplicate window (`duplicate: true`).
   * When storing a bulk is not confirmed, each of its jobs answers `SubmissionNotConfirmedError`:
   * submit them again with the same ids. A bulk message the stream refuses for its size (over a
   * `max_msg_size` below the server's `max_payload`) is sent again job by job. A job with the id of an earlier job in the list is
   * refused (it would collapse into it and never run). `duplicate` is per message: true when the
   * intake already held a bulk of the same jobs in the same order. Up to 16 bulk messages and
   * 8 MiB are in flight at once (and the jobs of those refused for their size, each on its own).
   */
  submitBulk(jobs: readonly BulkJobToSubmit[]): Promise<SubmitResult[]> {
    if (this.#closing) return Promise.resolve(jobs.map((job) => closedResult(claimedId(job))));
    return this.#tracked(this.#submitBulk(jobs));
  }

  /** Keeps `submitting` among the submissions {@link close} waits for, until it settles. */
  #tracked<T>(submitting: Promise<T>): Promise<T> {
    const key = this.#inFlight.add(submitting);
    void submitting.then(
      () => this.#inFlight.delete(key),
      () => this.#inFlight.delete(key),
    );
    return submitting;
  }

  /**
   * Whether the rounds left of a `submitMany` or `submitBulk` are not sent: the client is closing
   * and a round went unconfirmed (NATS away), so that `close()` does not wait out a deadline for
   * every round left. Their jobs answer `ClientClosedError`.
   */
  #givingUp(results: readonly (SubmitResult | undefined)[]): boolean {
    return (
      this.#closing &&
      results.some(
        (result) =>
          result !== undefined && !result.ok && result.error instanceof SubmissionNotConfirmedError,
      )
    );
  }

  /**
   * Refuses new submissions and resolves once every pending one is confirmed or has failed, the
   * later rounds of a `submitMany` or `submitBulk` called before it included (once one of their
   * rounds goes unconfirmed, the rounds left are not sent and answer `ClientClosedError`). The
   * connection stays the caller's to close.
   */
  async close(): Promise<void> {
    this.#closing = true;
    // A follow nobody iterates to its end would otherwise hold its subscription on.
    this.#closed.abort();
    await Promise.allSettled(this.#inFlight.values());
    await this.#publisher.close();
  }

  /**
   * Waits until the job's newest run has ended and resolves with how: its `succeeded` event (with
   * the `result`), `dead` (with the `error`) or `cancelled` (with the `reason`); `undefined` when
   * `timeoutMs` (default 30 s) passes or `signal` aborts first. A job not known yet (submitted a
   * moment before) is waited for too, and a dead job replayed is waited for in its new run. It
   * listens to the job's events (`events.<id>.*`) and reads the newest stored ones from `EVENTS`
   * (a direct get): the user needs to subscribe there and `$JS.API.DIRECT.GET.EVENTS`.
   *
   * @throws {ClientClosedError} after {@link close}.
   * @throws {RangeError} for a `jobId` that is no job id (a wildcard would follow every job).
   * @throws when the stored events could not be read and nothing of the job was heard, or the
   *   user may not subscribe to the job's events. A wait pending when the connection closes ends.
   */
  async waitFor(jobId: string, options: WaitForOptions = {}): Promise<JobOutcome | undefined> {
    this.#checkFollowable("waitFor", jobId);
    const timeoutMs = wholeNumberOption("timeoutMs", options.timeoutMs ?? 30_000, maxTimerMs);
    return waitForOutcome(this.#nc, jobId, {
      timeoutMs,
      readTimeoutMs: this.#timeoutMs,
      signal: options.signal,
    });
  }

  /**
   * The job's events as they come, for a progress bar or a log of the job: first the newest stored
   * event of each kind (the job as it is), then each new one (`started`, every `progress`, a
   * `failed` attempt and its retry...), each once, ending after the event that ends its newest run
   * (`succeeded`, `dead`, `cancelled`), after `timeoutMs` (default 30 minutes), when `signal`
   * aborts, when you stop iterating, or at {@link close}. An event older than one given (read late,
   * or heard after a newer one) is skipped: the job only moves forward. Events published while the
   * connection was away are read again only as the newest of each kind. A job not known yet is
   * followed from its first event. The same subscription and direct get as {@link waitFor}, with
   * the same permissions.
   *
   * @throws {ClientClosedError} after {@link close}.
   * @throws {RangeError} for a `jobId` that is no job id.
   */
  follow(jobId: string, options: WaitForOptions = {}): AsyncGenerator<JobEvent> {
    this.#checkFollowable("follow", jobId);
    const timeoutMs = wholeNumberOption("timeoutMs", options.timeoutMs ?? 30 * 60_000, maxTimerMs);
    const ends = [this.#closed.signal, ...(options.signal === undefined ? [] : [options.signal])];
    return followEvents(this.#nc, jobId, {
      timeoutMs,
      readTimeoutMs: this.#timeoutMs,
      signal: AbortSignal.any(ends),
    });
  }

  /** Throws unless the client is open and `jobId` is a job id: a wildcard would follow every job. */
  #checkFollowable(method: string, jobId: string): void {
    if (this.#closing) throw new ClientClosedError();
    if (!JobId.safeParse(jobId).success) {
      throw new RangeError(
        `${method}: ${JSON.stringify(jobId)} is no job id (1-64 of A-Z a-z 0-9 - _)`,
      );
    }
  }

  async #submit(job: JobToSubmit): Promise<Submitted> {
    return this.#publishPrepared(this.#prepare(job));
  }

  /**
   * Checks a job's envelope and size and builds its message.
   *
   * @throws {InvalidSubmissionError} naming the bad fields, or `too_large`.
   */
  #prepare(job: JobToSubmit): Prepared {
    const checked = checkEnvelope(job);
    // Without a subject type the envelope check refuses only envelopes and payloads.
    if (!checked.ok) {
      const reason = checked.reason as SubmissionRefusal;
      throw new InvalidSubmissionError(reason, checked.message, checked.issues);
    }
    const message = submissionMessage(checked.submission, SubmissionSource.Nats);
    const bytes = Buffer.byteLength(message.body);
    if (bytes > this.#maxSubmissionBytes) {
      const text = `the submission is ${bytes} bytes, over the limit of ${this.#maxSubmissionBytes}`;
      throw new InvalidSubmissionError("too_large", text, [{ path: "(root)", message: text }]);
    }
    return { message, submission: checked.submission, bytes };
  }

  /** Publishes a prepared submission in its trace and resolves once JetStream has stored it. */
  #publishPrepared({ message, submission }: Prepared): Promise<Submitted> {
    const tracing = this.#tracing;
    if (tracing === undefined) {
      // No span of the client's own: the caller's active one, if any, is the job's parent.
      injectTraceContext(context.active(), message.headers);
      return this.#send(message, submission, traceIdOfContext(context.active()));
    }
    const parent = { otelContext: context.active() };
    const attributes = { subject: message.subject, jobId: message.id, jobType: submission.type };
    return tracing.produce(parent, attributes, (span) => {
      tracing.inject(span, message.headers);
      return this.#send(message, submission, tracing.traceIdOf(span));
    });
  }

  async #submitBulk(jobs: readonly BulkJobToSubmit[]): Promise<SubmitResult[]> {
    const results: SubmitResult[] = new Array<SubmitResult>(jobs.length);
    const checked: BulkJob[] = [];
    const repeated = repeatedIds(jobs);
    jobs.forEach((job, index) => {
      // Without a subject type the envelope check refuses only envelopes and payloads.
      const check = checkBulkJob(job, index, {
        earlier: repeated.get(index),
        check: (envelope) => checkEnvelope(envelope),
        maxJobBytes: this.#maxSubmissionBytes,
      });
      if (check.ok) {
        checked.push(check.job);
      } else {
        const reason = check.reason as SubmissionRefusal;
        const error = new InvalidSubmissionError(reason, check.message, check.issues);
        results[index] = { ok: false, id: claimedId(job), error };
      }
    });
    const messages = bulkMessages(checked, maxBulkMessageBytes(this.#nc));
    // In bounded rounds, as submitMany: a confirmation's wait starts when its message is queued.
    const rounds = inRounds(messages, (message) => Buffer.byteLength(message.body), {
      items: bulkMessagesPerRound,
      bytes: maxRoundBytes,
    });
    let sent = 0;
    for (const round of rounds) {
      if (this.#givingUp(results)) {
        for (const message of messages.slice(sent)) {
          for (const job of message.jobs) results[job.index] = closedResult(job.id);
        }
        break;
      }
      sent += round.length;
      await Promise.all(
        round.map(async (message) => {
          const send = (bulk: BulkMessage) => this.#sendBulk(bulk);
          for (const result of await sendBulkOrJobByJob(message, send, allRefusedForSize)) {
            results[result.index] = result.result;
          }
        }),
      );
    }
    return results;
  }

  async #sendBulk(message: BulkMessage): Promise<BulkResult[]> {
    const send = async (traceId: string | undefined) => {
      const { subject, body, headers, msgID } = message;
      const closedBefore = this.#nc.isClosed();
      try {
        const ack = await this.#publisher.publish(subject, body, { msgID, headers });
        return message.jobs.map((job) => ({
          index: job.index,
          // A job with a traceparent of its own continues that trace, not the bulk's (or starts
          // one at the dispatcher when W3C cannot read it, whose id is not known here).
          result: {
            ok: true as const,
            id: job.id,
            duplicate: ack.duplicate,
            traceId: job.ownTrace === true ? job.traceId : traceId,
          },
        }));
      } catch (err) {
        return message.jobs.map(({ index, id }) => ({
          index,
          result: {
            ok: false as const,
            id,
            error: unsent(err) ?? this.#notConfirmed(id, subject, err, closedBefore),
          },
        }));
      }
    };
    const tracing = this.#tracing;
    if (tracing === undefined) {
      injectTraceContext(context.active(), message.headers);
      return send(traceIdOfContext(context.active()));
    }
    const parent = { otelContext: context.active() };
    const attributes = { subject: message.subject, jobId: undefined, jobType: message.type };
    return tracing.produce(parent, attributes, (span) => {
      tracing.inject(span, message.headers);
      return send(tracing.traceIdOf(span));
    });
  }

  async #send(
    message: SubmissionMessage,
    submission: JobSubmission,
    traceId: string | undefined,
  ): Promise<Submitted> {
    const { id, subject, body, headers, msgID } = message;
    const closedBefore = this.#nc.isClosed();
    const ack = await this.#publisher
      .publish(subject, body, { msgID, headers })
      .catch((err: unknown) => {
        throw unsent(err) ?? this.#notConfirmed(id, subject, err, closedBefore);
      });
    if (!ack.duplicate) return { id, duplicate: false, traceId };
    const first = await this.#first(ack.seq);
    const { idempotencyKey } = submission;
    return { id: duplicateJobId(first, { id, idempotencyKey }), duplicate: true, traceId };
  }

  /**
   * Why a submission handed to the publisher failed. `closedBefore` is whether the connection was
   * already closed when the submission was made (nothing can have been sent); a connection closed
   * later may have taken the message with it or not, which is unknown.
   */
  #notConfirmed(
    id: string,
    subject: string,
    err: unknown,
    closedBefore: boolean,
  ): SubmissionNotConfirmedError {
    if (closedBefore) return new SubmissionNotConfirmedError(id, err, "the connection is closed");
    if (err instanceof RepliesRefusedError) {
      return new SubmissionNotConfirmedError(id, err, `it was not sent, as ${err.message}`);
    }
    // The stream refused the message for its size (over its `max_msg_size`): nothing of it was
    // stored, and sending it again as it is gets the same answer. Other refusals may not be final
    // (a publish of the same id still in flight on a clustered stream, a store closing).
    if (isMessageTooLarge(err)) {
      return new SubmissionNotConfirmedError(id, err, `the stream refused it: ${err.message}`);
    }
    if (isNoResponders(err)) {
      return new SubmissionNotConfirmedError(id, err, `no stream captures ${subject}`);
    }
    // Refused for its own subject, not sent on; a refused subscription for acknowledgements
    // answers publishes already sent, which may be stored.
    if (err instanceof PermissionViolationError && err.operation === "publish") {
      return new SubmissionNotConfirmedError(id, err, `the server refused it: ${err.message}`);
    }
    return new SubmissionNotConfirmedError(id, err);
  }

  /** The stored submission a duplicate collapsed into (its PubAck's sequence), when readable. */
  /** The JetStream API on the client's connection, with its deadline, made on first use. */
  #manager(): Promise<JetStreamManager> {
    this.#jsm ??= jetstreamManager(this.#nc, { timeout: this.#timeoutMs, checkAPI: false });
    return this.#jsm;
  }

  async #first(seq: number): Promise<FirstSubmission | undefined> {
    try {
      return await readFirstSubmission(await this.#manager(), seq);
    } catch {
      // Not permitted, or not answered: unknown, and a later duplicate tries afresh.
      this.#jsm = undefined;
      return undefined;
    }
  }
}

/**
 * The refusal of a message that was never sent: the client was closed, or the connection would
 * not send it (larger than the server's `max_payload`, for a client whose `maxSubmissionBytes` is
 * above it). It is no `SubmissionNotConfirmedError`: nothing may be stored. Undefined for any other
 * failure.
 */
function unsent(err: unknown): ClientClosedError | InvalidSubmissionError | undefined {
  if (err instanceof PublisherClosedError) return new ClientClosedError();
  if (!(err instanceof InvalidArgumentError)) return undefined;
  const text = `the message cannot be sent: ${err.message}`;
  return new InvalidSubmissionError("too_large", text, [{ path: "(root)", message: text }]);
}

/** Whether the server answered that nothing subscribes to the subject: no stream stored it. */
function isNoResponders(err: unknown): boolean {
  return err instanceof NoRespondersError || (err instanceof RequestError && err.isNoResponders());
}

/** An option that must be a whole number from 1 to `max`, or a RangeError naming it. */
function wholeNumberOption(name: string, value: number, max: number): number {
  if (!Number.isInteger(value) || value < 1 || value > max) {
    throw new RangeError(
      `JobClient option ${name} must be a whole number from 1 to ${max}, not ${value}`,
    );
  }
  return value;
}
