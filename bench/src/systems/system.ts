import type { NamedProcess } from "../metrics/process-sampler.ts";
import type { SystemName } from "../report/figures.ts";

/** What a bench job does: `noop` returns its payload at once, `sleep` waits `payload.ms` first. */
export const JobKind = { Noop: "noop", Sleep: "sleep" } as const;
export type JobKind = (typeof JobKind)[keyof typeof JobKind];

/** One job the bench submits, under an id it chose (so it can follow the job). */
export interface BenchJob {
  id: string;
  kind: JobKind;
  /** `{ ms }` for `sleep`; any small JSON for `noop`. */
  payload: Record<string, number>;
}

/** Counters at a moment, from which {@link SystemDriver.waitAcked} and `waitVisible` count. */
export type Mark = Readonly<Record<string, number>>;

/** Called for each handler start seen: the job id and the time the handler started (epoch ms). */
export type StartListener = (jobId: string, atMs: number) => void;

/**
 * Called for each successful handler end seen: the job id and the time the handler returned
 * (epoch ms), which is when the worker goes on to acknowledge the job.
 */
export type EndListener = (jobId: string, atMs: number) => void;

/** What {@link SystemDriver.watchStarts} reports besides starts. */
export interface WatchOptions {
  /** Report at most this many starts (and the system stops sending them). */
  max?: number;
  /** Also report successful handler ends, for as long as starts are reported. */
  onEnd?: EndListener;
}

/**
 * One system under test, running as separate processes on this machine. Workloads drive both
 * systems only through this interface, so each measures the same thing on both.
 */
export interface SystemDriver extends AsyncDisposable {
  readonly name: SystemName;
  /** The HTTP submission endpoint and a body that submits one `noop` job, for autocannon. */
  readonly http: { url: string; body: string };
  /** Submits one job; resolves once the system has stored it (the durable acknowledgement). */
  submitOne(job: BenchJob): Promise<void>;
  /**
   * Submits jobs as fast as the system accepts them, `batchSize` at a time (a bulk submission for
   * Conveyor, `Queue.addBulk` for BullMQ); resolves once all are stored.
   */
  submitMany(jobs: readonly BenchJob[], batchSize: number): Promise<void>;
  /** Submits without waiting; the promise settles with the acknowledgement. */
  submitAsync(job: BenchJob): Promise<void>;
  /** Reads the counters that the waits below count from. Call it before submitting. */
  mark(): Promise<Mark>;
  /**
   * Resolves once `n` jobs submitted since `mark` wait for a worker (Conveyor: the dispatcher has
   * routed them into the work queue; BullMQ: added is queued).
   */
  waitQueued(mark: Mark, n: number, timeoutMs: number): Promise<void>;
  /** Resolves once `n` jobs submitted since `mark` have been completed and acknowledged by workers. */
  waitAcked(mark: Mark, n: number, timeoutMs: number): Promise<void>;
  /**
   * Waits until `jobs` (submitted since `mark`) read as succeeded to a client (Conveyor: in the
   * read model), at most `timeoutMs`; resolves with how many did (all, or fewer at the deadline:
   * for Conveyor an estimate from a sample of the jobs read back by id).
   */
  waitVisible(mark: Mark, jobs: readonly BenchJob[], timeoutMs: number): Promise<number>;
  /** Whether job `id` reads as succeeded through the system's documented read path. */
  isSucceeded(id: string): Promise<boolean>;
  /**
   * Whether the store that answers queries about jobs records `id` as succeeded. Conveyor: its
   * MongoDB read model itself, not the `EVENTS` fallback of `GET /v1/jobs/:id`; BullMQ: the job's
   * state in Redis, which is its only store.
   */
  inReadModel(id: string): Promise<boolean>;
  /**
   * Reports handler starts until the returned function is called; with `max`, at most that many
   * (and the system stops sending them). Takes effect for workers started later too.
   */
  watchStarts(listener: StartListener, options?: WatchOptions): Promise<() => void>;
  /** Runs exactly `count` worker processes (0 stops them all); resolves once new ones are ready. */
  setWorkers(count: number): Promise<void>;
  /**
   * Waits until nothing is queued or running. Conveyor's read model may still be catching up: on
   * FerretDB it projects far slower than the rest runs, and waiting for it would bound the run by it.
   */
  waitIdle(timeoutMs: number): Promise<void>;
  /** What is still catching up once idle (Conveyor: events not yet in the read model), if anything. */
  lag(): Promise<string | undefined>;
  /**
   * Waits, at most `timeoutMs`, until nothing is catching up either (see {@link lag}), so that
   * background work of one repetition does not take CPU from the next, on either system.
   * Resolves with what is still behind when the time ran out.
   */
  waitCaughtUp(timeoutMs: number): Promise<string | undefined>;
  /** The system's processes now (services, workers, servers), for `/proc` readings. */
  processes(): NamedProcess[];
  /** The recent output of every process, for a failure's report. */
  logs(): string;
}
