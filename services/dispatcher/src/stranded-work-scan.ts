import { setTimeout as sleep } from "node:timers/promises";

import { StreamName } from "@conveyor/contracts";
import type { Logger } from "@conveyor/service-kit";
import type { ConsumerInfo, JetStreamManager } from "@nats-io/jetstream";

import type { ExhaustedWork } from "./exhausted-work.ts";

export interface StrandedScanDeps {
  jsm: JetStreamManager;
  exhausted: ExhaustedWork;
  logger: Logger;
  /** Most work messages one scan looks at per work consumer. */
  scanLimit: number;
  /**
   * Pause between the first sighting of stranded messages and the look that confirms them, in
   * milliseconds: longer than the server takes to delete a message it already dropped from the
   * pending set on an acknowledgement (milliseconds in R3). @default 2000
   */
  confirmDelayMs?: number;
}

export const defaultConfirmDelayMs = 2000;

/** What one scan found, summed over the work consumers. */
export interface ScanReport {
  /** Work consumers scanned. */
  consumers: number;
  /** Stranded messages dead-lettered by this scan. */
  deadLettered: number;
  /**
   * Messages known to be stranded but left for a later scan, because their consumer had deliveries
   * in flight and a stranded message cannot be told apart from one in flight (a lower bound).
   */
  deferred: number;
  /** Stranded messages whose dead-lettering failed; the next scan tries again. */
  failed: number;
}

/** The part of a work consumer's subject where a stranded message can be. */
export interface DeliveredWindow {
  subject: string;
  /** Last stream sequence delivered: every message at or below it was delivered at least once. */
  toSeq: number;
  /** The consumer's `max_deliver`: the deliveries a stranded message had. */
  maxDeliver: number;
}

/**
 * Where a work consumer's delivered messages are, or undefined when the consumer cannot strand
 * messages (no `max_deliver`, no single filter subject, nothing delivered yet).
 *
 * The window starts at the beginning of the stream, not at the ack floor: the server drops a
 * stranded message from the pending set, so a later acknowledgement can move the ack floor past it.
 */
export function deliveredWindow(info: ConsumerInfo): DeliveredWindow | undefined {
  const subject = info.config.filter_subject;
  const maxDeliver = info.config.max_deliver ?? -1;
  if (subject === undefined || subject === "" || maxDeliver <= 0) return undefined;
  const toSeq = info.delivered.stream_seq;
  return toSeq > 0 ? { subject, toSeq, maxDeliver } : undefined;
}

/**
 * Finds work messages whose deliveries ran out but that are still in the work stream, because their
 * max-deliveries advisory was never captured, and dead-letters them.
 *
 * JetStream does not say which message reached `max_deliver`; it only drops such a message from the
 * consumer's pending set and keeps it in the workqueue stream. Acknowledged messages are deleted,
 * so a message still in the stream at or below the consumer's last delivered sequence is either in
 * flight (pending: being worked on, or waiting for its redelivery) or stranded. When
 * the consumer has no pending deliveries (`num_ack_pending` 0) every such message is stranded, and
 * none can become pending again; otherwise the surplus over `num_ack_pending` is stranded but
 * cannot be identified, and is reported as deferred until the consumer is idle. Messages found
 * stranded are confirmed by a second look after `confirmDelayMs` before they are dead-lettered.
 */
export async function scanStrandedWork(deps: StrandedScanDeps): Promise<ScanReport> {
  const report: ScanReport = { consumers: 0, deadLettered: 0, deferred: 0, failed: 0 };
  for await (const info of deps.jsm.consumers.list(StreamName.Work)) {
    report.consumers++;
    const window = deliveredWindow(info);
    if (window === undefined) continue;
    const present = await presentSequences(deps, window);
    if (info.num_ack_pending > 0) {
      const stranded = present.length - info.num_ack_pending;
      if (stranded > 0) {
        report.deferred += stranded;
        deps.logger.warn(
          { consumer: info.name, stranded, inFlight: info.num_ack_pending },
          "work messages ran out of deliveries; they are dead-lettered once the consumer is idle",
        );
      }
      continue;
    }
    const confirmed = await confirmStranded(deps, info.name, window, present);
    if (confirmed.kind === "busy") {
      report.deferred += present.length;
      continue;
    }
    for (const seq of confirmed.seqs) {
      try {
        const outcome = await deps.exhausted.deadLetter(seq, confirmed.maxDeliver, "scan");
        if (outcome.kind === "dead-lettered") {
          report.deadLettered++;
          deps.logger.warn(
            { consumer: info.name, seq, jobId: outcome.jobId, type: outcome.type },
            "stranded job dead-lettered: max deliveries reached and no advisory was handled",
          );
        }
      } catch (err) {
        report.failed++;
        deps.logger.warn({ err, consumer: info.name, seq }, "dead-lettering a stranded job failed");
      }
    }
  }
  return report;
}

/**
 * Looks again, after a pause, at messages seen stranded: the server drops an acknowledged message
 * from the pending set a moment before it deletes it, so one look can take a message that was just
 * acknowledged for a stranded one, and dead-letter a job that succeeded. Only messages present in
 * both looks, with the consumer idle at both, are stranded.
 */
async function confirmStranded(
  deps: StrandedScanDeps,
  consumer: string,
  window: DeliveredWindow,
  seen: number[],
): Promise<{ kind: "busy" } | { kind: "stranded"; seqs: number[]; maxDeliver: number }> {
  if (seen.length === 0) return { kind: "stranded", seqs: [], maxDeliver: window.maxDeliver };
  await sleep(deps.confirmDelayMs ?? defaultConfirmDelayMs);
  const again = await deps.jsm.consumers.info(StreamName.Work, consumer);
  if (again.num_ack_pending > 0) return { kind: "busy" };
  const still = new Set(await presentSequences(deps, window));
  // A stranded message was delivered exactly `max_deliver` times: the consumer's current value.
  const maxDeliver = again.config.max_deliver ?? window.maxDeliver;
  return { kind: "stranded", seqs: seen.filter((seq) => still.has(seq)), maxDeliver };
}

/**
 * Sequences of the messages still stored in `window`, oldest first, at most `scanLimit`. Each look-up
 * asks for the next message on the subject, so acknowledged (deleted) messages cost nothing and a
 * scan makes one request per message found, plus one.
 */
async function presentSequences(
  deps: StrandedScanDeps,
  window: DeliveredWindow,
): Promise<number[]> {
  const found: number[] = [];
  let seq = 1;
  while (seq <= window.toSeq && found.length < deps.scanLimit) {
    // `next_by_subj` is part of the server's message-get request; nats.js types only `seq`.
    const query: { seq: number; next_by_subj: string } = { seq, next_by_subj: window.subject };
    const msg = await deps.jsm.streams.getMessage(StreamName.Work, query);
    if (msg === null || msg.seq > window.toSeq) break;
    found.push(msg.seq);
    seq = msg.seq + 1;
  }
  return found;
}
