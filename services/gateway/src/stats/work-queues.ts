import {
  JobPriority,
  StreamName,
  Subject,
  prioritiesHighestFirst,
  workConsumerName,
} from "@conveyor/contracts";
import type { ConsumerInfo, JetStreamManager } from "@nats-io/jetstream";

import { pauseOf } from "../job-types/pause-type.ts";
import type { WorkQueueStats } from "../schemas/stats.ts";

/**
 * Work-queue depth and consumer counters of each type, keyed by type, every priority's lane
 * counted: two requests (the stream's subjects, and every work consumer's counters in one
 * listing) however many types there are.
 */
export async function workQueueStats(
  jsm: JetStreamManager,
  types: readonly string[],
): Promise<Record<string, WorkQueueStats>> {
  const [stream, consumers] = await Promise.all([
    jsm.streams.info(StreamName.Work, { subjects_filter: Subject.workAll }),
    workConsumers(jsm),
  ]);
  const depths = stream.state.subjects ?? {};
  const result: Record<string, WorkQueueStats> = {};
  for (const type of types) {
    const lanes = prioritiesHighestFirst.map((priority) => ({
      priority,
      info: consumers.get(workConsumerName(type, priority)),
    }));
    const depth = prioritiesHighestFirst.reduce(
      (sum, priority) => sum + (depths[Subject.work(type, priority)] ?? 0),
      0,
    );
    result[type] = {
      subject: Subject.work(type),
      depth,
      consumer: consumerStats(workConsumerName(type), lanes),
    };
  }
  return result;
}

/** Every consumer of `WORK` by name, from one listing. */
async function workConsumers(jsm: JetStreamManager): Promise<Map<string, ConsumerInfo>> {
  const byName = new Map<string, ConsumerInfo>();
  for await (const info of jsm.consumers.list(StreamName.Work)) byName.set(info.name, info);
  return byName;
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

/**
 * Counters of a type's durable work consumers, summed over its priorities' lanes, with the jobs
 * waiting in each lane that has some, and whether the type is paused (any lane). Zeros when no
 * worker has created the consumers yet.
 */
export function consumerStats(
  name: string,
  lanes: readonly { priority: number; info: ConsumerInfo | undefined }[],
): WorkQueueStats["consumer"] {
  const sum = (count: (info: ConsumerInfo) => number) =>
    lanes.reduce((total, { info }) => total + (info === undefined ? 0 : count(info)), 0);
  const main = lanes.find(({ priority }) => priority === JobPriority.default)?.info;
  const pendingByPriority: Record<string, number> = {};
  for (const { priority, info } of lanes) {
    if (info !== undefined && info.num_pending > 0) {
      pendingByPriority[String(priority)] = info.num_pending;
    }
  }
  return {
    name,
    exists: main !== undefined,
    numPending: sum((info) => info.num_pending),
    numAckPending: sum((info) => info.num_ack_pending),
    numRedelivered: sum((info) => info.num_redelivered),
    pendingByPriority,
    ...pauseOfLanes(main, lanes),
  };
}

/**
 * The default lane's pause; a type any of whose lanes is paused (a pause or resume that failed
 * half-way, a lane created as a resume came) shows as paused, so that a pause or resume is asked
 * again.
 */
function pauseOfLanes(
  main: ConsumerInfo | undefined,
  lanes: readonly { info: ConsumerInfo | undefined }[],
): Pick<WorkQueueStats["consumer"], "paused" | "pausedUntil"> {
  const state = main === undefined ? { paused: false } : pauseOf(main);
  if (state.paused) return state;
  return { paused: lanes.some(({ info }) => info?.paused === true) };
}
