import {
  ConsumerName,
  Header,
  StreamName,
  SubmissionSource,
  jsonOrUndefined,
  parseWorkItemJson,
} from "@conveyor/contracts";
import { headersOrNone } from "@conveyor/service-kit";
import type { Logger } from "@conveyor/service-kit";
import type { Tracing } from "@conveyor/telemetry";
import type { JetStreamClient, JsMsg } from "@nats-io/jetstream";

import { DispatchPublisher } from "./publisher.ts";
import { PullLoop } from "./pull-loop.ts";
import { retryDelayMs } from "./retry-delay.ts";

export interface ScheduleMailboxOptions {
  /** Due jobs queued at once. @default 64 */
  concurrency?: number;
  /** How long one pull waits, in milliseconds (bounds how long `stop` waits). @default 1000 */
  pullExpiresMs?: number;
}

export interface ScheduleMailboxDeps {
  js: JetStreamClient;
  tracing: Tracing;
  logger: Logger;
  options?: ScheduleMailboxOptions;
}

export interface ScheduleMailbox {
  /** Stops pulling, finishes the jobs in flight, then resolves. */
  stop(): Promise<void>;
}

/**
 * The dispatcher's mailbox of scheduled jobs whose time has come (`dispatcher-schedules` on
 * `SCHEDULES`, subjects `schedule.due.<type>`): nats-server's message scheduler puts a held work
 * item there at its job's `runAt`, and each is queued on `WORK` as any job is (deduplicated as
 * `<jobId>:<run>`, in the job's trace), then acknowledged. While queueing fails (`WORK` away) it is
 * nak'd with a growing delay and tried again, for as long as it takes: the consumer has no
 * delivery limit. What is no work item (published there by hand) is logged and acknowledged.
 */
export async function createScheduleMailbox(deps: ScheduleMailboxDeps): Promise<ScheduleMailbox> {
  const { js, tracing } = deps;
  const log = deps.logger.child({ actor: "schedules" });
  const options = deps.options ?? {};
  const publisher = new DispatchPublisher(js, tracing);
  const consumer = await js.consumers.get(StreamName.Schedules, ConsumerName.DispatcherSchedules);
  const loop = new PullLoop(consumer, (msg) => queueDueJob(msg, { publisher, tracing, log }), log, {
    concurrency: options.concurrency ?? 64,
    pullExpiresMs: options.pullExpiresMs,
  });
  loop.start();
  log.info("dispatcher consuming scheduled jobs");
  return { stop: () => loop.stop() };
}

async function queueDueJob(
  msg: JsMsg,
  deps: { publisher: DispatchPublisher; tracing: Tracing; log: Logger },
): Promise<void> {
  const { log } = deps;
  const parsed = parseWorkItemJson(jsonOrUndefined(msg.data));
  if (!parsed.success) {
    log.error(
      { subject: msg.subject, seq: msg.seq, issues: parsed.error.issues.slice(0, 10) },
      "due message is no work item; dropped",
    );
    msg.ack();
    return;
  }
  const item = parsed.data;
  const headers = headersOrNone(msg);
  const source = sourceOf(headers?.get(Header.Source));
  try {
    await deps.tracing.consume(
      headers,
      { subject: msg.subject, jobId: item.id, jobType: item.type },
      (context) => deps.publisher.work(context, item, source),
    );
    msg.ack();
    log.debug({ jobId: item.id, type: item.type }, "scheduled job queued");
  } catch (err) {
    const delayMs = retryDelayMs(msg.info.deliveryCount);
    log.warn(
      { err, jobId: item.id, type: item.type, delayMs },
      "queueing a scheduled job failed; it will be retried",
    );
    msg.nak(delayMs);
  }
}

/** The source the job was submitted through, as its held work item's header says. */
function sourceOf(header: string | undefined): SubmissionSource {
  return header === SubmissionSource.Rest ? SubmissionSource.Rest : SubmissionSource.Nats;
}
