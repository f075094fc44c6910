import { randomUUID } from "node:crypto";

import { Header, Subject, commandMsgId } from "@conveyor/contracts";
import type { CommandVerb } from "@conveyor/contracts";
import { isMessageTooLarge, outgoingHeaders } from "@conveyor/service-kit";
import type { TraceContext } from "@conveyor/telemetry";
import type { PubAck } from "@nats-io/jetstream";

import type { GatewayDeps } from "../deps.ts";
import { errorMessage, natsNotConnected, tooLargeForJobsStream, unavailable } from "../errors.ts";
import type { NatsOut } from "./nats-out.ts";

/** One command for the dispatcher. */
export interface OutgoingCommand {
  verb: CommandVerb;
  jobId: string;
  /** The job's type, when known (a header for observers; the dispatcher reads the body). */
  type: string | undefined;
  /** The run the command is about. */
  run: number;
  /** The command body, one of the command schemas of `@conveyor/contracts`. */
  body: unknown;
}

type CommandDeps = Pick<GatewayDeps, "tracing" | "options">;

/**
 * Publishes a command to `jobs.cmd.<verb>.<jobId>` in a PRODUCER span and resolves after
 * JetStream's PubAck, so an accepted command is stored and the dispatcher will carry it out. Like a
 * submission it is refused at once (503) while NATS is disconnected, and a 503 after the deadline
 * is safe to retry: carrying out a command is idempotent. Its `Nats-Msg-Id` names this call (see
 * `commandMsgId`), so a command sent again is stored again, also after the dispatcher gave up on
 * the first.
 */
export async function publishCommand(
  deps: CommandDeps,
  out: NatsOut,
  command: OutgoingCommand,
  parent: TraceContext,
): Promise<PubAck> {
  const what = `the ${command.verb} command`;
  if (!out.link.up) throw natsNotConnected(`${what} was not sent`);
  const subject = Subject.command(command.verb, command.jobId);
  const headers = outgoingHeaders();
  headers.set(Header.JobId, command.jobId);
  if (command.type !== undefined) headers.set(Header.JobType, command.type);
  return deps.tracing.produce(
    parent,
    { subject, jobId: command.jobId, jobType: command.type },
    async (ctx) => {
      deps.tracing.inject(ctx, headers);
      return out.publisher
        .publish(subject, JSON.stringify(command.body), {
          msgID: commandMsgId(command.verb, command.jobId, command.run, randomUUID()),
          headers,
          timeout: deps.options.publishTimeoutMs,
        })
        .catch((err: unknown) => {
          if (isMessageTooLarge(err)) {
            throw tooLargeForJobsStream(what, err, "; send a shorter reason");
          }
          throw unavailable(`JetStream did not store ${what}: ${errorMessage(err)}`, err);
        });
    },
  );
}
