import { hostname } from "node:os";

import { JobTypeName, RetryPolicy, maxJobTimeoutMs } from "@conveyor/contracts";
import { maxTimerMs } from "@conveyor/service-kit";
import type { Logger } from "@conveyor/service-kit";
import type { Tracing } from "@conveyor/telemetry";
import type { NatsConnection } from "@nats-io/transport-node";
import { z } from "zod";

import { WorkerConfigError } from "./errors.ts";
import type { HandlerEntry, Job, JobContext } from "./handler.ts";
import type { AppliedOutcome } from "./outcome.ts";
import { RateLimit } from "./rate-limiter.ts";

/** Options of {@link createWorker}. Give either `natsUrl` or `connection`. */
export interface WorkerOptions {
  /** NATS server URL(s), comma-separated. The worker opens and closes its own connection. */
  natsUrl?: string;
  /** An open connection to use instead of `natsUrl`; `stop()` leaves it open. */
  connection?: NatsConnection;
  /** Job type name -> handler. Each type is registered and consumed. */
  handlers: Record<string, HandlerEntry>;
  /** Handlers of one type running at once in this process (per type). @default 4 */
  concurrency?: number;
  /** @default a pino JSON logger named `conveyor-worker` */
  logger?: Logger;
  /** Spans per attempt; without it spans are recorded (trace ids still flow) but not exported. */
  tracing?: Tracing;
  /** Identifies this replica in events. @default `<hostname>-<pid>` */
  workerId?: string;
  /** Lease on a delivered job before JetStream redelivers it, in milliseconds. @default 30000 */
  ackWaitMs?: number;
  /** Interval of lease renewals (`working()`) from a job's delivery until it is settled, in milliseconds. @default ackWaitMs / 3 */
  heartbeatMs?: number;
  /** How long `stop()` waits for running handlers before returning their jobs, in milliseconds. @default 10000 */
  shutdownGraceMs?: number;
  /** Longest a pull request waits for work, in milliseconds (at least 1000; a pull listening for a priority's next job while the worker runs jobs of the type lasts a second). Bounds how long `stop()` waits for an open pull. @default 5000 */
  pullExpiresMs?: number;
  /** Shortest interval between two progress events of one attempt, in milliseconds. @default 250 */
  progressIntervalMs?: number;
  /**
   * Called once per attempt after its outcome is applied (acknowledged, retried, dead-lettered,
   * cancelled, or handed back because it could not be recorded): for metrics. What it throws is
   * logged and ignored.
   */
  onAttemptEnd?: (report: AttemptReport) => void;
}

/** One attempt of a job, once its outcome is applied. */
export interface AttemptReport {
  type: string;
  /** What was done: `unrecorded` when the outcome could not be stored and the job runs again. */
  outcome: AppliedOutcome;
  /** How long the handler ran, in milliseconds; undefined when it never ran. */
  durationMs: number | undefined;
  /** How long the job waited for its type's rate limit before it started, in milliseconds. */
  rateLimitedMs: number;
}

/** One job type's handler and settings, resolved. */
export interface TypeSettings {
  type: string;
  handle: (job: Job, ctx: JobContext) => Promise<unknown>;
  /** Parses (and may transform) the payload; undefined accepts any payload. */
  schema: z.ZodType | undefined;
  /** JSON Schema registered for the payload. */
  payloadSchema: Record<string, unknown> | undefined;
  /** The retry policy as given (registered); unset fields are the registry's defaults. */
  retryOverrides: Partial<RetryPolicy> | undefined;
  /** The resolved retry policy, for delays. */
  retry: RetryPolicy;
  timeoutMs: number | undefined;
  concurrency: number;
  description: string | undefined;
  /** The declaration's version, registered with it. */
  version: number | undefined;
  /** How many jobs of the type may start per window, across workers; none when undefined. */
  rateLimit: RateLimit | undefined;
}

/** {@link WorkerOptions} with every default filled in and every handler resolved. */
export interface ResolvedWorkerOptions {
  types: TypeSettings[];
  workerId: string;
  ackWaitMs: number;
  heartbeatMs: number;
  shutdownGraceMs: number;
  pullExpiresMs: number;
  progressIntervalMs: number;
  onAttemptEnd: ((report: AttemptReport) => void) | undefined;
}

/** The most handlers of one type a worker runs at once. */
export const maxWorkerConcurrency = 10_000;
/** The longest `workerId`, in characters. */
export const maxWorkerIdLength = 200;

const positiveInt = z.int().min(1);
/** A time a timer waits for: a longer one would fire at once. */
const timerMs = z.int().max(maxTimerMs);

const scalarOptions = z.object({
  concurrency: positiveInt.max(maxWorkerConcurrency).default(4),
  workerId: z.string().min(1).max(maxWorkerIdLength).optional(),
  ackWaitMs: timerMs.min(1000).default(30_000),
  heartbeatMs: timerMs.min(1).optional(),
  shutdownGraceMs: timerMs.min(0).default(10_000),
  pullExpiresMs: timerMs.min(1000).default(5000),
  progressIntervalMs: timerMs.min(0).default(250),
});

/** Validates options and fills in defaults. Throws a {@link WorkerConfigError} naming the bad option. */
export function compileWorkerOptions(options: WorkerOptions): ResolvedWorkerOptions {
  const scalars = parseOrThrow(scalarOptions, options, "");
  const heartbeatMs = scalars.heartbeatMs ?? Math.floor(scalars.ackWaitMs / 3);
  // Renewals are timed from when the worker took the job, after the server started its lease, and
  // travel to the server: one sent just before the lease ends would arrive after it.
  if (heartbeatMs * 2 > scalars.ackWaitMs) {
    throw new WorkerConfigError("heartbeatMs", "must be at most half of ackWaitMs");
  }
  const entries = Object.entries(options.handlers);
  if (entries.length === 0)
    throw new WorkerConfigError("handlers", "at least one handler is needed");
  return {
    types: entries.map(([type, entry]) => resolveType(type, entry, scalars.concurrency)),
    workerId: scalars.workerId ?? `${hostname()}-${process.pid}`,
    ackWaitMs: scalars.ackWaitMs,
    heartbeatMs,
    shutdownGraceMs: scalars.shutdownGraceMs,
    pullExpiresMs: scalars.pullExpiresMs,
    progressIntervalMs: scalars.progressIntervalMs,
    onAttemptEnd: options.onAttemptEnd,
  };
}

// Not strict: a definition may be an object with fields of its own (a class instance, say).
const typeOptions = z.object({
  description: z.string().max(1000).optional(),
  timeoutMs: positiveInt.max(maxJobTimeoutMs).optional(),
  concurrency: positiveInt.max(maxWorkerConcurrency).optional(),
  version: z.int().min(0).optional(),
  rateLimit: RateLimit.optional(),
});

function resolveType(type: string, entry: HandlerEntry, defaultConcurrency: number): TypeSettings {
  const option = `handlers.${type}`;
  const name = JobTypeName.safeParse(type);
  if (!name.success)
    throw new WorkerConfigError(option, name.error.issues[0]?.message ?? "invalid");
  if (typeof entry === "function") {
    return {
      type,
      handle: (job, ctx) => Promise.resolve().then(() => entry(job, ctx)),
      schema: undefined,
      payloadSchema: undefined,
      retryOverrides: undefined,
      retry: RetryPolicy.parse({}),
      timeoutMs: undefined,
      concurrency: defaultConcurrency,
      description: undefined,
      version: undefined,
      rateLimit: undefined,
    };
  }
  const settings = parseOrThrow(typeOptions, entry, option);
  // Plain JavaScript can leave it out; every attempt would then fail.
  if (typeof entry.handler !== "function") {
    throw new WorkerConfigError(`${option}.handler`, "must be a function");
  }
  const retry = parseOrThrow(RetryPolicy, entry.retry ?? {}, `${option}.retry`);
  return {
    type,
    handle: (job, ctx) => Promise.resolve().then(() => entry.handler(job, ctx)),
    schema: entry.schema,
    payloadSchema: entry.schema ? toPayloadSchema(entry.schema, `${option}.schema`) : undefined,
    retryOverrides: entry.retry,
    retry,
    timeoutMs: settings.timeoutMs,
    concurrency: settings.concurrency ?? defaultConcurrency,
    description: settings.description,
    version: settings.version,
    rateLimit: settings.rateLimit,
  };
}

// The registered schema describes what submitters send, so it is the schema's input side
// (fields with defaults are optional). Parts JSON Schema cannot express become `{}`: the worker
// still checks them with zod.
function toPayloadSchema(schema: z.ZodType, option: string): Record<string, unknown> {
  try {
    return z.toJSONSchema(schema, { io: "input", unrepresentable: "any" });
  } catch (err) {
    throw new WorkerConfigError(option, "cannot be converted to JSON Schema", { cause: err });
  }
}

function parseOrThrow<S extends z.ZodType>(schema: S, value: unknown, prefix: string): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const path = [prefix, ...(issue?.path ?? []).map(String)].filter((p) => p !== "").join(".");
  throw new WorkerConfigError(path === "" ? "(options)" : path, issue?.message ?? "invalid", {
    cause: result.error,
  });
}
