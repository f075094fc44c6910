import { JobStatus } from "@conveyor/contracts";
import { z } from "zod";

/** A count for every status, zeros included. */
const StatusCounts = z.record(z.enum(Object.values(JobStatus)), z.int().min(0));

const JobCounts = z.object({ total: z.int().min(0), byStatus: StatusCounts });

export const WorkConsumerStats = z.object({
  /**
   * The durable consumer of the default priority, `work_<type with . as _>` (each other priority
   * N has its own, `work_<type>__pN`; the counters below add up all of them).
   */
  name: z.string(),
  /** False until a worker for the type has created the consumers; the counters are then zeros. */
  exists: z.boolean(),
  /** Messages not yet delivered to any worker. */
  numPending: z.int().min(0),
  /** Messages delivered and not yet acknowledged. */
  numAckPending: z.int().min(0),
  /** Messages delivered more than once. */
  numRedelivered: z.int().min(0),
  /** `numPending` of each priority that has jobs waiting, keyed by priority (`"9"`). */
  pendingByPriority: z.record(z.string(), z.int().min(0)),
  /** Whether the type is paused (`POST /v1/job-types/:type/pause`): no worker is handed its jobs. */
  paused: z.boolean(),
  /** When a paused type resumes by itself; absent while it waits to be resumed. */
  pausedUntil: z.iso.datetime().optional(),
});

export const WorkQueueStats = z.object({
  /**
   * The work subject of the default priority, `work.<type>` (each other priority N has its own,
   * `work.<type>._pN`).
   */
  subject: z.string(),
  /** Messages stored on the type's subjects: waiting, being worked on, or waiting for a retry. */
  depth: z.int().min(0),
  consumer: WorkConsumerStats,
});
export type WorkQueueStats = z.output<typeof WorkQueueStats>;

/** `GET /v1/stats`. */
export const Stats = z.object({
  /** From the read model: every job it holds, by status and by type. */
  jobs: JobCounts.extend({ byType: z.record(z.string(), JobCounts) }),
  /** From JetStream, for every registered job type. */
  workQueues: z.record(z.string(), WorkQueueStats),
  /**
   * From JetStream: scheduled jobs held in `SCHEDULES` until their time, with those whose time has
   * come that the dispatcher has not queued yet.
   */
  scheduled: z.int().min(0),
});
export type Stats = z.output<typeof Stats>;
