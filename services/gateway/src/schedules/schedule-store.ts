import {
  Header,
  StreamName,
  Subject,
  readRecurringSchedule,
  recurrenceHeader,
} from "@conveyor/contracts";
import type { RecurringSchedule } from "@conveyor/contracts";
import { InvalidQueryError, decodeCursor, encodeCursor } from "@conveyor/read-model";
import { outgoingHeaders } from "@conveyor/service-kit";
import type { TraceContext } from "@conveyor/telemetry";
import { JetStreamApiError } from "@nats-io/jetstream";
import type { JetStreamManager } from "@nats-io/jetstream";

import type { GatewayDeps } from "../deps.ts";
import { ApiError, ErrorCode, errorMessage, natsNotConnected, unavailable } from "../errors.ts";
import type { NatsOut } from "../jobs/nats-out.ts";
import { parameterRefused } from "../jobs/query-read-model.ts";
import { withinJetStreamDeadline } from "../jobs/within-jetstream-deadline.ts";
import type { ScheduleView } from "../schemas/schedules.ts";
import { recurringSchedulesSince, supportsRecurringSchedules } from "./recurring-support.ts";
import type { RunLookup, ScheduleRuns } from "./schedule-runs.ts";

/** nats-server's answer to a schedule it cannot read: "message schedules pattern is invalid". */
const invalidSchedulePattern = 10189;

type StoreDeps = Pick<GatewayDeps, "tracing" | "options" | "jsm">;

/**
 * Stores a recurring schedule on `schedule.cron.<name>` in `SCHEDULES`, replacing one of that
 * name, in a PRODUCER span; nats-server's scheduler then copies it to `schedule.tick.<name>` at
 * each of its times, keeping one tick at most (`Nats-Schedule-Rollup: sub`), so a dispatcher that
 * was away submits one late run, not one for every time it missed. A replaced schedule's tick not
 * yet submitted is dropped. The same schedule stored again is left as it is: storing it restarts
 * an `every` interval, and a job run every day that a deploy stores every hour would never run.
 * A pattern the server cannot read is a 400 naming `cron` or `every`, but on a nats-server before
 * 2.14 (which reads no recurring pattern) a 501 naming the version. Resolves with the schedule in
 * force.
 */
export async function storeSchedule(
  deps: StoreDeps,
  out: NatsOut,
  schedule: RecurringSchedule,
  parent: TraceContext,
): Promise<RecurringSchedule> {
  if (!out.link.up) throw natsNotConnected("the schedule was not stored");
  const current = await findSchedule(deps, schedule.name);
  if (current !== undefined && sameSchedule(current, schedule)) return current;
  const subject = Subject.recurring(schedule.name);
  const headers = outgoingHeaders();
  headers.set(Header.Schedule, recurrenceHeader(schedule));
  headers.set(Header.ScheduleTarget, Subject.recurringTick(schedule.name));
  headers.set(Header.ScheduleRollup, "sub");
  headers.set(Header.JobType, schedule.job.type);
  await deps.tracing.produce(parent, { subject, jobType: schedule.job.type }, async (ctx) => {
    deps.tracing.inject(ctx, headers);
    await out.publisher
      .publish(subject, JSON.stringify(schedule), {
        headers,
        timeout: deps.options.publishTimeoutMs,
      })
      .catch((err: unknown) => {
        if (err instanceof JetStreamApiError && err.code === invalidSchedulePattern) {
          const version = out.link.serverVersion;
          if (version !== undefined && !supportsRecurringSchedules(version)) {
            const { major, minor } = recurringSchedulesSince;
            throw new ApiError(
              501,
              ErrorCode.NotImplemented,
              `recurring schedules need nats-server ${major}.${minor} or later; it runs ${version}`,
              { cause: err },
            );
          }
          const field = schedule.every === undefined ? "cron" : "every";
          const message = `${field}: nats-server cannot read ${JSON.stringify(recurrenceHeader(schedule))} as a schedule`;
          throw new ApiError(400, ErrorCode.InvalidBody, `invalid request body: ${field}`, {
            issues: [{ path: field, message }],
          });
        }
        throw unavailable(`JetStream did not store the schedule: ${errorMessage(err)}`, err);
      });
  });
  if (current !== undefined) await inTime(deps, () => dropTicks(deps.jsm, schedule.name));
  return schedule;
}

function sameSchedule(a: RecurringSchedule, b: RecurringSchedule): boolean {
  const what = (s: RecurringSchedule) => JSON.stringify([s.cron, s.every, s.job, s.source]);
  return what(a) === what(b);
}

/**
 * One page of the recurring schedules `SCHEDULES` holds, by name, each with its latest run: the
 * stream's subjects name them all, and only the page's schedules are read. A schedule deleted or
 * unreadable meanwhile is left out, so a page may hold fewer than `limit` with a next one to come.
 */
export async function listSchedules(
  deps: StoreDeps,
  runs: RunLookup,
  page: { limit: number; cursor?: string | undefined },
): Promise<{ items: ScheduleView[]; nextCursor: string | null }> {
  // A cursor is checked before anything is asked of JetStream: a bad one is the caller's 400.
  let after: string | undefined;
  try {
    after = page.cursor === undefined ? undefined : decodeCursor(page.cursor, "schedules", 1)[0];
  } catch (err) {
    if (err instanceof InvalidQueryError) throw parameterRefused(err);
    throw err;
  }
  return inTime(deps, async () => {
    const info = await deps.jsm.streams.info(StreamName.Schedules, {
      subjects_filter: Subject.recurringAll,
    });
    const following = Object.keys(info.state.subjects ?? {})
      .map((subject) => subject.slice(Subject.recurring("").length))
      .filter((name) => after === undefined || name > after)
      .sort();
    const names = following.slice(0, page.limit);
    const last = names.at(-1);
    const nextCursor =
      following.length > page.limit && last !== undefined
        ? encodeCursor("schedules", [last])
        : null;
    const schedules: ScheduleView[] = [];
    // A bounded number of reads at once: thousands at a time would outlast the deadline.
    for (let start = 0; start < names.length; start += readsAtOnce) {
      const batch = names.slice(start, start + readsAtOnce);
      const read = batch.map((name) => readScheduleView(deps.jsm, runs, name));
      for (const schedule of await Promise.all(read)) {
        if (schedule !== undefined) schedules.push(schedule);
      }
    }
    return { items: schedules, nextCursor };
  });
}

/** The recurring schedule of that name, if `SCHEDULES` holds one. */
export async function findSchedule(
  deps: StoreDeps,
  name: string,
): Promise<RecurringSchedule | undefined> {
  return inTime(deps, () => readSchedule(deps.jsm, name));
}

/** The recurring schedule of that name with its latest run, if `SCHEDULES` holds one. */
export async function findScheduleView(
  deps: StoreDeps,
  runs: RunLookup,
  name: string,
): Promise<ScheduleView | undefined> {
  return inTime(deps, () => readScheduleView(deps.jsm, runs, name));
}

/** A stored schedule with its latest run, before the deadline. */
export async function scheduleView(
  deps: StoreDeps,
  runs: RunLookup,
  schedule: RecurringSchedule,
): Promise<ScheduleView> {
  return inTime(deps, () => runs(schedule));
}

/**
 * Deletes the recurring schedule of that name, its tick not yet submitted and the record of its
 * runs; false when there was none.
 */
export async function deleteSchedule(
  deps: StoreDeps,
  runs: ScheduleRuns,
  name: string,
): Promise<boolean> {
  return inTime(deps, async () => {
    const purged = await deps.jsm.streams.purge(StreamName.Schedules, {
      filter: Subject.recurring(name),
    });
    await dropTicks(deps.jsm, name);
    if (purged.purged === 0) return false;
    await runs.forget(name);
    return true;
  });
}

async function dropTicks(jsm: JetStreamManager, name: string): Promise<void> {
  await jsm.streams.purge(StreamName.Schedules, { filter: Subject.recurringTick(name) });
}

/** Schedules read from the stream at once when listing them. */
const readsAtOnce = 32;

async function readSchedule(
  jsm: JetStreamManager,
  name: string,
): Promise<RecurringSchedule | undefined> {
  const msg = await jsm.streams.getMessage(StreamName.Schedules, {
    last_by_subj: Subject.recurring(name),
  });
  if (msg === null) return undefined;
  // One published by hand that is no schedule of this name (or too deeply nested to read) is not
  // shown: its ticks are recorded as rejections, and DELETE removes it.
  const read = readRecurringSchedule(msg.data, name);
  return read.ok ? read.schedule : undefined;
}

async function readScheduleView(
  jsm: JetStreamManager,
  runs: RunLookup,
  name: string,
): Promise<ScheduleView | undefined> {
  const schedule = await readSchedule(jsm, name);
  return schedule === undefined ? undefined : runs(schedule);
}

async function inTime<T>(deps: StoreDeps, read: () => Promise<T>): Promise<T> {
  return withinJetStreamDeadline(deps, "the schedules are unavailable", read);
}
