import {
  JobPriority,
  StreamName,
  prioritiesHighestFirst,
  workConsumerName,
} from "@conveyor/contracts";
import { JetStreamApiCodes, JetStreamApiError } from "@nats-io/jetstream";
import type { ConsumerInfo } from "@nats-io/jetstream";

import type { GatewayDeps } from "../deps.ts";
import { natsNotConnected, notFound } from "../errors.ts";
import type { NatsLink } from "../jobs/nats-link.ts";
import { withinJetStreamDeadline } from "../jobs/within-jetstream-deadline.ts";
import type { PauseState } from "../schemas/job-types.ts";

/**
 * The time a pause "until resumed" lasts: nats-server pauses a consumer until a time, and this
 * one is never reached.
 */
const untilResumed = new Date("9999-12-31T23:59:59Z");

type PauseDeps = Pick<GatewayDeps, "jsm" | "options">;

/**
 * Pauses the type's work consumers, one per priority (nats-server's consumer pause), until
 * `until`, or until resumed:
 * no worker is handed the type's jobs meanwhile, while submissions are still taken and queued and
 * jobs already running finish. The pause is the consumer's, so it holds for every worker,
 * survives restarts of workers and of nats-server, and ends at its time without anyone's help.
 */
export async function pauseType(
  deps: PauseDeps,
  link: Pick<NatsLink, "up">,
  type: string,
  until: Date | undefined,
): Promise<PauseState> {
  const answer = await onWorkConsumer(deps, link, type, "paused", (stream, name) =>
    deps.jsm.consumers.pause(stream, name, until ?? untilResumed),
  );
  return { type, paused: answer.paused, ...pausedUntil(answer.paused, answer.pause_until) };
}

/** Resumes the type's work consumers: its jobs are handed to workers again. */
export async function resumeType(
  deps: PauseDeps,
  link: Pick<NatsLink, "up">,
  type: string,
): Promise<PauseState> {
  const answer = await onWorkConsumer(deps, link, type, "resumed", (stream, name) =>
    deps.jsm.consumers.resume(stream, name),
  );
  return { type, paused: answer.paused };
}

/** A work consumer's pause, as `GET /v1/stats` shows it. */
export function pauseOf(info: ConsumerInfo): Pick<PauseState, "paused" | "pausedUntil"> {
  const paused = info.paused === true;
  return { paused, ...pausedUntil(paused, info.config.pause_until) };
}

/** `pausedUntil` of a pause with a time of its own, none of one until resumed. */
function pausedUntil(paused: boolean, until: string | undefined): { pausedUntil?: string } {
  if (!paused || until === undefined) return {};
  const at = Date.parse(until);
  if (Number.isNaN(at) || at >= untilResumed.getTime()) return {};
  return { pausedUntil: new Date(at).toISOString() };
}

/**
 * Acts on the type's default lane first, whose answer is returned (404 when no worker created
 * it: a worker creating the other lanes then copies its new state), then on every other lane,
 * highest priority first; one that is missing (a worker of an older release created none) is
 * passed over. A worker given the jobs of several lanes at once starts the highest first.
 */
async function onWorkConsumer<T>(
  deps: PauseDeps,
  link: Pick<NatsLink, "up">,
  type: string,
  what: string,
  act: (stream: string, consumer: string) => Promise<T>,
): Promise<T> {
  if (!link.up) throw natsNotConnected(`the type was not ${what}`);
  return withinJetStreamDeadline(
    deps,
    `the type was not ${what}`,
    async () => {
      const answer = await act(StreamName.Work, workConsumerName(type));
      for (const priority of prioritiesHighestFirst) {
        if (priority === JobPriority.default) continue;
        try {
          await act(StreamName.Work, workConsumerName(type, priority));
        } catch (err) {
          if (!isConsumerNotFound(err)) throw err;
        }
      }
      return answer;
    },
    (err) =>
      isConsumerNotFound(err)
        ? notFound(
            `job type ${type} has no work consumer to pause or resume: no worker has created it (or it was deleted)`,
          )
        : undefined,
  );
}

function isConsumerNotFound(err: unknown): boolean {
  return err instanceof JetStreamApiError && err.code === JetStreamApiCodes.ConsumerNotFound;
}
