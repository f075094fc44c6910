import { randomBytes } from "node:crypto";

import { JobPriority, Subject, workConsumerName } from "@conveyor/contracts";
import type { WorkItem } from "@conveyor/contracts";
import { waitFor } from "@conveyor/testing";
import { ensureWorkConsumer } from "@conveyor/topology";
import type { JetStreamClient, JetStreamManager, JsMsg, StoredMsg } from "@nats-io/jetstream";
import { headers as natsHeaders } from "@nats-io/transport-node";

/** Deliveries after which the test work consumers give up. */
export const testMaxDeliver = 2;

/** Creates a work consumer that gives up quickly: 2 deliveries, a 500 ms lease. */
export async function ensureImpatientConsumer(jsm: JetStreamManager, type: string): Promise<void> {
  await ensureWorkConsumer(jsm, type, { maxDeliver: testMaxDeliver, ackWaitMs: 500 });
}

/** A work message as the dispatcher queues it, and where it was stored. */
export interface QueuedWork {
  item: WorkItem;
  seq: number;
  traceId: string;
}

export async function publishWork(
  js: JetStreamClient,
  type: string,
  jobId: string,
  payload: WorkItem["payload"] = { n: 1 },
  priority: number = JobPriority.default,
): Promise<QueuedWork> {
  const traceId = randomBytes(16).toString("hex");
  const item: WorkItem = {
    id: jobId,
    type,
    payload,
    priority,
    maxAttempts: 4,
    timeoutMs: 1_000,
    submittedAt: new Date().toISOString(),
    run: 1,
  };
  const headers = natsHeaders();
  headers.set("traceparent", `00-${traceId}-${randomBytes(8).toString("hex")}-01`);
  headers.set("Conveyor-Job-Id", jobId);
  headers.set("Conveyor-Job-Type", type);
  const ack = await js.publish(Subject.work(type, priority), JSON.stringify(item), {
    msgID: `${jobId}:1`,
    headers,
  });
  return { item, seq: ack.seq, traceId };
}

export function advisorySubject(type: string, priority: number = JobPriority.default): string {
  return `$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.WORK.${workConsumerName(type, priority)}`;
}

/** The captured max-deliveries advisories of a type's work consumer. */
export async function capturedAdvisories(
  jsm: JetStreamManager,
  type: string,
  priority: number = JobPriority.default,
): Promise<StoredMsg[]> {
  const { state } = await jsm.streams.info("ADVISORIES");
  const found: StoredMsg[] = [];
  let seq = state.first_seq;
  while (seq <= state.last_seq) {
    const query: { seq: number; next_by_subj: string } = {
      seq,
      next_by_subj: advisorySubject(type, priority),
    };
    const msg = await jsm.streams.getMessage("ADVISORIES", query);
    if (msg === null) break;
    found.push(msg);
    seq = msg.seq + 1;
  }
  return found;
}

/** A delivery a test keeps in flight (its lease renewed) until it finishes it. */
export interface HeldDelivery {
  msg: JsMsg;
  /** Stops renewing the lease and acknowledges the message. */
  finish(): Promise<void>;
}

/** Renews a delivery's 500 ms lease until it is finished, like a worker busy with a long job. */
function holdDelivery(msg: JsMsg): HeldDelivery {
  const lease = setInterval(() => {
    msg.working();
  }, 100);
  return {
    msg,
    finish: async () => {
      clearInterval(lease);
      await msg.ackAck();
    },
  };
}

/**
 * Plays a worker that crashes on every delivery: pulls the type's work and never acknowledges it,
 * except the deliveries `hold` picks, which are kept in flight. Returns once the server has
 * captured `expectedAdvisories` max-deliveries advisories for the type.
 */
export async function crashOnEveryDelivery(
  js: JetStreamClient,
  jsm: JetStreamManager,
  type: string,
  options: { expectedAdvisories?: number; hold?: (msg: JsMsg) => boolean; priority?: number } = {},
): Promise<HeldDelivery[]> {
  const priority = options.priority ?? JobPriority.default;
  const consumer = await js.consumers.get("WORK", workConsumerName(type, priority));
  const held: HeldDelivery[] = [];
  const expected = options.expectedAdvisories ?? 1;
  await waitFor(
    async () => {
      const batch = await consumer.fetch({ max_messages: 10, expires: 1000 });
      for await (const msg of batch) {
        if (options.hold?.(msg)) held.push(holdDelivery(msg));
      }
      return (await capturedAdvisories(jsm, type, priority)).length >= expected;
    },
    { timeoutMs: 20_000, intervalMs: 1, message: `no max-deliveries advisory for ${type}` },
  );
  return held;
}
