import { ConsumerName, KvBucket, StreamName } from "@conveyor/contracts";
import { headersOrNone } from "@conveyor/service-kit";
import type { Logger } from "@conveyor/service-kit";
import type { TraceContext, Tracing } from "@conveyor/telemetry";
import type { JetStreamClient, JetStreamManager, JsMsg } from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";

import { cancelJob } from "./cancel-job.ts";
import { queuedEventTrace } from "./job-trace.ts";
import type { CancelDeps } from "./cancel-job.ts";
import { parseCommand } from "./command-parse.ts";
import type { Command } from "./command-parse.ts";
import { DeadLetterStore } from "./dead-letter-store.ts";
import { discardLetter } from "./discard-letter.ts";
import { OneAtATime } from "./one-at-a-time.ts";
import { DispatchPublisher } from "./publisher.ts";
import { PullLoop } from "./pull-loop.ts";
import { replayJob } from "./replay-job.ts";
import type { LetterCommandDeps } from "./replay-job.ts";
import { RetryBudget } from "./retry-budget.ts";
import { retryDelayMs } from "./retry-delay.ts";
import { dropHeldWorkItem } from "./scheduled-holds.ts";

export interface CommandMailboxOptions {
  /** Commands handled at once. @default 8 */
  concurrency?: number;
  /** How long one pull waits, in milliseconds (bounds how long `stop` waits). @default 1000 */
  pullExpiresMs?: number;
  /**
   * Deliveries after which a command that still fails, for a reason other than NATS being
   * unavailable, is logged as an error and terminated, so it leaves the ack-pending set. While
   * NATS is unavailable a command is retried for as long as that lasts. @default 50
   */
  giveUpAfterDeliveries?: number;
}

export const defaultCommandGiveUpAfterDeliveries = 50;

export interface CommandMailboxDeps {
  js: JetStreamClient;
  /** Reads and deletes dead letters by sequence (`$JS.API.STREAM.MSG.GET/DELETE.DLQ`). */
  jsm: JetStreamManager;
  tracing: Tracing;
  logger: Logger;
  options?: CommandMailboxOptions;
  /** The clock, for event times. @default () => new Date() */
  now?: () => Date;
}

export interface CommandMailbox {
  /** Stops pulling, finishes the commands in flight, then resolves. */
  stop(): Promise<void>;
}

/** Everything the command handlers use. */
type CommandDeps = CancelDeps & LetterCommandDeps;

/**
 * The dispatcher's command mailbox (`dispatcher-commands` on `JOBS`, subjects `jobs.cmd.>`): cancel
 * a job, replay or discard a dead letter. Each
 * command is carried out, then acknowledged; when carrying it out fails (NATS away, a stream
 * missing) it is nak'd with a growing delay and done again (safe: every step is idempotent) for as
 * long as NATS is unavailable; a failure of another kind is logged as an error and the command
 * terminated after `giveUpAfterDeliveries`. A command
 * that can never succeed (unknown verb, malformed body) is logged with its fields named and
 * acknowledged. Commands of one job are carried out one at a time (within a replica).
 */
export async function createCommandMailbox(deps: CommandMailboxDeps): Promise<CommandMailbox> {
  const { js, tracing } = deps;
  const log = deps.logger.child({ actor: "commands" });
  const options = deps.options ?? {};
  const commandDeps: CommandDeps = {
    cancellations: await new Kvm(js).open(KvBucket.Cancellations, { allow_direct: true }),
    dropSchedule: (jobId) => dropHeldWorkItem(deps.jsm, jobId),
    letters: new DeadLetterStore(deps.jsm),
    publisher: new DispatchPublisher(js, tracing),
    jobTrace: queuedEventTrace(deps.jsm, tracing, log),
    tracing,
    now: deps.now ?? (() => new Date()),
  };
  const consumer = await js.consumers.get(StreamName.Jobs, ConsumerName.DispatcherCommands);
  const giveUpAfter = options.giveUpAfterDeliveries ?? defaultCommandGiveUpAfterDeliveries;
  // Commands of one job run one at a time in this replica, so a replay and a discard of the same
  // letter cannot both find it and both be carried out.
  const perJob = new OneAtATime();
  const budget = new RetryBudget(giveUpAfter);
  const handle = (msg: JsMsg) =>
    handleCommand(msg, { deps: commandDeps, tracing, logger: log, budget, perJob });
  const loop = new PullLoop(consumer, handle, log, {
    concurrency: options.concurrency ?? 8,
    pullExpiresMs: options.pullExpiresMs,
  });
  loop.start();
  log.info("dispatcher consuming commands");
  return { stop: () => loop.stop() };
}

interface HandlerContext {
  deps: CommandDeps;
  tracing: Tracing;
  logger: Logger;
  /** When a failing command is given up. */
  budget: RetryBudget;
  perJob: OneAtATime;
}

async function handleCommand(msg: JsMsg, handler: HandlerContext): Promise<void> {
  const { deps, tracing, logger } = handler;
  const parsed = parseCommand(msg.subject, msg.data);
  if (!parsed.ok) {
    logger.error(
      { subject: msg.subject, seq: msg.seq, issues: parsed.issues },
      `command refused: ${parsed.message}`,
    );
    msg.ack();
    return;
  }
  const { command } = parsed;
  const attrs = { subject: msg.subject, jobId: command.body.jobId };
  try {
    const outcome = await handler.perJob.run(command.body.jobId, () =>
      // A command is its body: headers that cannot be read only lose the publisher's trace.
      tracing.consume(headersOrNone(msg), attrs, (context) =>
        execute(command, msg.time, context, deps),
      ),
    );
    msg.ack();
    handler.budget.settled(msg);
    if (outcome.kind === "refused") {
      logger.warn({ verb: command.verb, ...outcome }, `command ${command.verb} refused`);
    } else {
      logger.info({ verb: command.verb, ...outcome }, `command ${command.verb} done`);
    }
  } catch (err) {
    const deliveries = msg.info.deliveryCount;
    // An outage says nothing of the command: it is carried out once NATS is back, however late,
    // and the deliveries it took are not counted.
    if (handler.budget.spentBy(msg, err)) {
      handler.budget.settled(msg);
      logger.error(
        { err, subject: msg.subject, seq: msg.seq, deliveries, command: command.body },
        `command ${command.verb} failed on every delivery; given up`,
      );
      msg.term(`failed ${deliveries} times`);
      return;
    }
    const delayMs = retryDelayMs(deliveries);
    logger.warn(
      { err, subject: msg.subject, seq: msg.seq, delayMs },
      `command ${command.verb} failed; it will be retried`,
    );
    msg.nak(delayMs);
  }
}

/** Carries out `command`, which `JOBS` stored at `storedAt`. */
function execute(
  command: Command,
  storedAt: Date,
  context: TraceContext,
  deps: CommandDeps,
): Promise<{ kind: string }> {
  switch (command.verb) {
    case "cancel":
      return cancelJob(command.body, storedAt, context, deps);
    case "replay":
      return replayJob(command.body, deps);
    case "discard":
      return discardLetter(command.body, deps);
  }
}
