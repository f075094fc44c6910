import {
  ConsumerName,
  Header,
  JobId,
  StreamName,
  typeFromScheduleDueSubject,
  workItemOrUndefined,
} from "@conveyor/contracts";
import { headersOrNone } from "@conveyor/service-kit";
import type { Logger } from "@conveyor/service-kit";
import type { Tracing } from "@conveyor/telemetry";
import type { JetStreamClient, JsMsg } from "@nats-io/jetstream";

import { sourceOf } from "./intake.ts";
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
 * delivery limit. What is no readable work item (published there by hand, or held by a release
 * whose work items this one cannot read) goes on to `work.<type>` as it is, for its worker to
 * dead-letter, so that its job does not stay `queued` with no record of why.
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
  const type = typeFromScheduleDueSubject(msg.subject);
  if (type === undefined) {
    log.error({ subject: msg.subject, seq: msg.seq }, "due message names no job type; dropped");
    msg.ack();
    return;
  }
  const item = workItemOrUndefined(msg.data);
  const headers = headersOrNone(msg);
  const headerJobId = validJobId(headers?.get(Header.JobId));
  const jobId = item?.id ?? headerJobId;
  try {
    await deps.tracing.consume(
      headers,
      { subject: msg.subject, jobId, jobType: type },
      (context) =>
        item === undefined
          ? // Its worker dead-letters it: dropped here, its job would stay queued with no record.
            deps.publisher.unreadableWork(
              context,
              type,
              msg.data,
              `${headerJobId ?? "unreadable"}:due:${String(msg.seq)}`,
              headerJobId,
            )
          : deps.publisher.work(context, item, sourceOf(msg)),
    );
    msg.ack();
    if (item === undefined) {
      log.warn(
        { jobId, type, seq: msg.seq },
        "due message is no readable work item; passed on to be dead-lettered",
      );
    } else {
      log.debug({ jobId, type }, "scheduled job queued");
    }
  } catch (err) {
    const delayMs = retryDelayMs(msg.info.deliveryCount);
    log.warn({ err, jobId, type, delayMs }, "queueing a scheduled job failed; it will be retried");
    msg.nak(delayMs);
  }
}

function validJobId(header: string | undefined): string | undefined {
  return header !== undefined && JobId.safeParse(header).success ? header : undefined;
}
