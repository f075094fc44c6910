import { createLogger } from "@conveyor/service-kit";

import type { Job, JobContext } from "./handler.ts";
import { checkProgress } from "./progress-reporter.ts";

/** Options of {@link createTestContext}. */
export interface TestContextOptions {
  jobId?: string;
  type?: string;
  /** @default 1 */
  attempt?: number;
  /** @default 4 */
  maxAttempts?: number;
  /** Abort it to test how a handler reacts to a timeout or a stop. */
  signal?: AbortSignal;
}

/** A progress call recorded by a test context. */
export interface RecordedProgress {
  done: number;
  total: number;
  message: string | undefined;
}

/**
 * A {@link JobContext} for unit tests of handlers, without NATS: it records progress calls and
 * heartbeats instead of publishing them.
 */
export function createTestContext(options: TestContextOptions = {}): {
  ctx: JobContext;
  progress: RecordedProgress[];
  heartbeats: () => number;
} {
  const progress: RecordedProgress[] = [];
  let heartbeats = 0;
  const ctx: JobContext = {
    jobId: options.jobId ?? "test-job",
    type: options.type ?? "test",
    attempt: options.attempt ?? 1,
    maxAttempts: options.maxAttempts ?? 4,
    traceId: undefined,
    workerId: "test-worker",
    signal: options.signal ?? new AbortController().signal,
    log: createLogger("test", "silent"),
    progress: (done, total, message) => {
      checkProgress(done, total, message);
      progress.push({ done, total, message });
      return Promise.resolve();
    },
    heartbeat: () => {
      heartbeats++;
    },
  };
  return { ctx, progress, heartbeats: () => heartbeats };
}

/** A job for unit tests of handlers: the payload with plausible work item fields. */
export function testJob<P>(payload: P, overrides: Partial<Omit<Job<P>, "payload">> = {}): Job<P> {
  return {
    id: "test-job",
    type: "test",
    priority: 5,
    maxAttempts: 4,
    timeoutMs: 60_000,
    submittedAt: new Date(0).toISOString(),
    run: 1,
    ...overrides,
    payload,
  };
}
