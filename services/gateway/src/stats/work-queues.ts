import { StreamName, Subject, workConsumerName } from "@conveyor/contracts";
import { JetStreamApiCodes, JetStreamApiError } from "@nats-io/jetstream";
import type { ConsumerInfo, JetStreamManager } from "@nats-io/jetstream";

import { pauseOf } from "../job-types/pause-type.ts";
import type { WorkQueueStats } from "../schemas/stats.ts";

/** Work-queue depth and consumer counters of each type, keyed by type. */
export async function workQueueStats(
  jsm: JetStreamManager,
  types: readonly string[],
): Promise<Record<string, WorkQueueStats>> {
  const [stream, consumers] = await Promise.all([
    jsm.streams.info(StreamName.Work, { subjects_filter: Subject.workAll }),
    Promise.all(types.map((type) => consumerInfo(jsm, workConsumerName(type)))),
  ]);
  const depths = stream.state.subjects ?? {};
  const result: Record<string, WorkQueueStats> = {};
  types.forEach((type, i) => {
    const subject = Subject.work(type);
    result[type] = {
      subject,
      depth: depths[subject] ?? 0,
      consumer: consumerStats(workConsumerName(type), consumers[i]),
    };
  });
  return result;
}

/**
 * Scheduled jobs not queued yet: what `SCHEDULES` holds besides recurring schedules and their
 * ticks (a few subjects each, where scheduled jobs have one subject per job).
 */
export async function scheduledJobs(jsm: JetStreamManager): Promise<number> {
  const [recurring, ticks] = await Promise.all([
    jsm.streams.info(StreamName.Schedules, { subjects_filter: Subject.recurringAll }),
    jsm.streams.info(StreamName.Schedules, { subjects_filter: Subject.recurringTickAll }),
  ]);
  const held = (counts: Record<string, number> | undefined) =>
    Object.values(counts ?? {}).reduce((sum, count) => sum + count, 0);
  // Two looks, between which a tick may come or go: never below none.
  const scheduled =
    recurring.state.messages - held(recurring.state.subjects) - held(ticks.state.subjects);
  return Math.max(0, scheduled);
}

/** Counters of a type's durable work consumer; zeros when no worker has created it yet. */
export function consumerStats(
  name: string,
  info: ConsumerInfo | undefined,
): WorkQueueStats["consumer"] {
  return {
    name,
    exists: info !== undefined,
    numPending: info?.num_pending ?? 0,
    numAckPending: info?.num_ack_pending ?? 0,
    numRedelivered: info?.num_redelivered ?? 0,
    ...(info === undefined ? { paused: false } : pauseOf(info)),
  };
}

async function consumerInfo(
  jsm: JetStreamManager,
  name: string,
): Promise<ConsumerInfo | undefined> {
  try {
    return await jsm.consumers.info(StreamName.Work, name);
  } catch (err) {
    if (err instanceof JetStreamApiError && err.code === JetStreamApiCodes.ConsumerNotFound) {
      return undefined;
    }
    throw err;
  }
}
