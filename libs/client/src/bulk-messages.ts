import { createHash } from "node:crypto";

import { Header, MsgIdPrefix, Subject, maxBulkJobs } from "@conveyor/contracts";
import { outgoingHeaders } from "@conveyor/service-kit";
import type { MsgHdrs } from "@nats-io/transport-node";

/** A checked job of a bulk, ready to send: its id and its envelope as JSON (with the id). */
export interface BulkJob {
  /** Its place in the caller's list, to answer its result there. */
  index: number;
  id: string;
  type: string;
  json: string;
  /**
   * Whether the job carries a `traceparent` of its own: its trace is then `traceId`, or one the
   * dispatcher starts when W3C Trace Context cannot read it (`traceId` undefined), not the bulk's.
   */
  ownTrace?: boolean;
  /** The trace id of the job's own `traceparent`, which the dispatcher continues, if it has one. */
  traceId?: string | undefined;
}

/** One bulk submission as published to `jobs.bulk.<type>`. */
export interface BulkMessage {
  subject: string;
  type: string;
  /** `{"jobs":[...]}`. */
  body: string;
  headers: MsgHdrs;
  /**
   * `Nats-Msg-Id`: drawn from the jobs' ids, so a bulk sent again with the same jobs (after an
   * unconfirmed publish) is stored once within the intake's duplicate window.
   */
  msgID: string;
  jobs: BulkJob[];
}

/** Bytes of a bulk message's body besides its jobs: `{"jobs":[` and `]}`. */
const bodyFrame = '{"jobs":[]}'.length;

/**
 * Groups jobs into bulk messages: one type per message (the subject names it), at most
 * `maxBulkJobs` jobs and `maxBytes` bytes of body each, in the order given. A job larger than
 * `maxBytes` on its own still gets a message (the connection refuses it, and that job's result
 * says so: `too_large`).
 */
export function bulkMessages(jobs: readonly BulkJob[], maxBytes: number): BulkMessage[] {
  const open = new Map<string, { jobs: BulkJob[]; bytes: number }>();
  const messages: BulkMessage[] = [];
  const close = (type: string) => {
    const group = open.get(type);
    if (group === undefined) return;
    open.delete(type);
    messages.push(messageOf(type, group.jobs));
  };
  for (const job of jobs) {
    const bytes = Buffer.byteLength(job.json) + 1;
    let group = open.get(job.type);
    if (
      group !== undefined &&
      (group.jobs.length >= maxBulkJobs || group.bytes + bytes > maxBytes)
    ) {
      close(job.type);
      group = undefined;
    }
    if (group === undefined) {
      group = { jobs: [], bytes: bodyFrame };
      open.set(job.type, group);
    }
    group.jobs.push(job);
    group.bytes += bytes;
  }
  for (const type of [...open.keys()]) close(type);
  return messages;
}

function messageOf(type: string, jobs: BulkJob[]): BulkMessage {
  const headers = outgoingHeaders();
  headers.append(Header.JobType, type);
  const ids = createHash("sha256");
  for (const job of jobs) ids.update(`${job.id}\n`);
  return {
    subject: Subject.submitBulk(type),
    type,
    body: `{"jobs":[${jobs.map((job) => job.json).join(",")}]}`,
    headers,
    msgID: `${MsgIdPrefix.Bulk}${ids.digest("hex").slice(0, 40)}`,
    jobs,
  };
}
