import { followJobEvents, jobEventOf } from "@conveyor/client";
import { isTerminal } from "@conveyor/contracts";
import { applyEvent, mergeJobDocuments } from "@conveyor/read-model";
import type { JobDocument } from "@conveyor/read-model";
import type { NatsConnection } from "@nats-io/transport-node";

import { ApiError, errorMessage, unavailable } from "../errors.ts";

/** Reads the job as `GET /v1/jobs/:id` does, with its newest events in `EVENTS` folded in. */
export type ReadJob = () => Promise<JobDocument | undefined>;

/** How often a follow reads the job again besides the events it hears. */
export const waitRereadMs = 5000;

/** How long {@link followJob} follows, and what it tells on the way. */
export interface FollowJobOptions {
  /** Longest the follow lasts, in milliseconds. */
  timeoutMs: number;
  /** Ends the follow early (the client went away, the gateway is stopping). */
  signal: AbortSignal;
  /** What is known of the job already (read before the follow began). */
  initial?: JobDocument | undefined;
  /** Called with the job each time a read or an event heard has changed what is known of it. */
  onChange?: (doc: JobDocument) => void;
  /** Where the follow ends. @default the job has finished (succeeded, dead or cancelled) */
  until?: (doc: JobDocument) => boolean;
}

/** Where a follow left the job. */
export interface FollowedJob {
  /** The job as last known; undefined when nothing of it was read or heard. */
  doc: JobDocument | undefined;
  /** Whether the job had got where `until` says (by default: it had finished). */
  finished: boolean;
  /** The last read's failure; undefined when it succeeded. */
  lastReadError: Error | undefined;
}

/**
 * Follows a job until it has finished (succeeded, dead or cancelled; or what `until` says),
 * `timeoutMs` runs out or `signal` aborts. Follows the job's events ({@link followJobEvents}) and folds each one heard
 * into the document with the read model's own merge, so what it knows does not wait for the
 * projector; what the events leave out, and any event not heard, comes from reading the job
 * again: when it looks finished (the follow goes on if the read says otherwise), every
 * {@link waitRereadMs}, and once more at the end.
 */
export async function followJob(
  nc: NatsConnection,
  id: string,
  read: ReadJob,
  options: FollowJobOptions,
): Promise<FollowedJob> {
  let doc = options.initial;
  const changedTo = (next: JobDocument) => {
    if (next !== doc) options.onChange?.(next);
    doc = next;
  };
  const until = options.until ?? ((job: JobDocument) => isTerminal(job.status));
  const finished = () => doc !== undefined && until(doc);
  const { lastReadError } = await followJobEvents(
    nc,
    id,
    {
      async read() {
        const stored = await read();
        if (stored !== undefined)
          changedTo(doc === undefined ? stored : mergeJobDocuments(stored, doc));
      },
      heard: (msg) => {
        const event = jobEventOf(id, msg.subject, msg.data);
        if (event !== undefined) changedTo(applyEvent(doc, event));
      },
      // As the read model ranks the job's events: a cancel of a running job, say, is not its end.
      finished,
      confirmFinish: true,
    },
    // Each read has its own deadlines (the read model's, NATS'): this one only bounds a hang.
    {
      timeoutMs: options.timeoutMs,
      signal: options.signal,
      rereadMs: waitRereadMs,
      readTimeoutMs: waitRereadMs,
    },
  );
  return { doc, finished: finished(), lastReadError };
}

/**
 * The job once it has finished (succeeded, dead or cancelled), or as it is when `waitMs` runs out
 * or `signal` aborts (the client went away, the gateway is stopping); undefined for a job still
 * unknown then; throws what the last read threw when nothing of the job was read or heard (the
 * read model and NATS not answering), as a request without a wait would. See {@link followJob}.
 */
export function waitForJob(
  nc: NatsConnection,
  id: string,
  waitMs: number,
  read: ReadJob,
  signal: AbortSignal,
): Promise<JobDocument | undefined> {
  return followedJob(nc, id, read, { timeoutMs: waitMs, signal });
}

/**
 * How long `GET /v1/jobs/:id/events` waits for a job it does not know before answering 404: a
 * job accepted a moment before is known once the dispatcher has queued it.
 */
export const unknownJobWaitMs = 10_000;

/**
 * The job once anything of it is known, or undefined after `waitMs` (or once `signal` aborts);
 * throws as {@link waitForJob} does.
 */
export function waitUntilKnown(
  nc: NatsConnection,
  id: string,
  read: ReadJob,
  signal: AbortSignal,
  waitMs = unknownJobWaitMs,
): Promise<JobDocument | undefined> {
  return followedJob(nc, id, read, { timeoutMs: waitMs, signal, until: () => true });
}

/** Where {@link followJob} left the job; what the last read threw when nothing of it is known. */
async function followedJob(
  nc: NatsConnection,
  id: string,
  read: ReadJob,
  options: FollowJobOptions,
): Promise<JobDocument | undefined> {
  const { doc, lastReadError } = await followJob(nc, id, read, options);
  if (doc === undefined && lastReadError !== undefined) {
    // A read given up on for taking too long is no fault of the gateway's: 503, as a slow store's.
    if (lastReadError instanceof ApiError) throw lastReadError;
    throw unavailable(`the job could not be read: ${errorMessage(lastReadError)}`, lastReadError);
  }
  return doc;
}
