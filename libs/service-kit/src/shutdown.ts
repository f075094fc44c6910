import type { Logger } from "./logger.ts";

/** One step of a service's shutdown: what it does, for the log, and the step itself. */
export type ShutdownStep = readonly [name: string, run: () => Promise<unknown>];

/**
 * Runs the steps once on SIGTERM or SIGINT, in order, and exits with 0 when every one succeeded,
 * 1 when any failed or the deadline passed first. A step that fails does not skip the ones after it: a worker that cannot drain
 * its NATS connection (the server is down) still flushes its traces and closes its metrics.
 * A second signal exits at once.
 *
 * An uncaught exception or unhandled rejection (a job handler's abort listener that throws, which
 * the worker cannot catch) is logged as fatal and runs the same steps, then exits 1: the process
 * cannot be trusted to go on, but a worker's other jobs finish within its grace period, or go
 * back to the queue at once, instead of each waiting out its lease and losing an attempt. A
 * second one while stopping exits at once.
 */
export function onShutdown(
  logger: Logger,
  steps: readonly ShutdownStep[],
  options: ShutdownOptions = {},
): void {
  let stopping = false;
  const stop = (exitCode: 0 | 1) => {
    stopping = true;
    void runShutdownSteps(logger, steps, options).then((ok) => {
      if (ok && exitCode === 0) logger.info("stopped");
      process.exit(ok ? exitCode : 1);
    });
  };
  const handle = (signal: NodeJS.Signals) => {
    if (stopping) {
      logger.warn({ signal }, "second signal, exiting now");
      process.exit(1);
    }
    logger.info({ signal }, "shutting down");
    stop(0);
  };
  process.on("SIGTERM", handle);
  process.on("SIGINT", handle);
  // An unhandled rejection reaches this too (Node's default `--unhandled-rejections=throw`).
  process.on("uncaughtException", (err, origin) => {
    if (stopping) {
      logger.fatal({ err, origin }, "uncaught error while stopping, exiting now");
      process.exit(1);
    }
    logger.fatal({ err, origin }, "uncaught error; stopping");
    stop(1);
  });
}

/**
 * The deadline of a service's shutdown: its grace period for the work in hand, and 15 s for the
 * rest, which a healthy stop stays well within (a worker first lets its open pull run out, 5 s
 * by default, and after the grace records what it hands back, with up to 3.5 s of retries; the
 * trace flush takes up to 3 s). It exists for the stop that would never end.
 */
export function shutdownDeadlineMs(graceMs: number): number {
  return graceMs + 15_000;
}

/** Options of a shutdown. */
export interface ShutdownOptions {
  /**
   * Longest the whole shutdown may take, in milliseconds: a step still running then is given up
   * (with those after it). A drain that waits for a nats-server that went away with the process
   * that started both (npm start killed outright) would otherwise keep the service, and its
   * port, for good. @default no limit
   */
  deadlineMs?: number;
}

/**
 * Runs every step in order, logging each that fails; resolves with whether all succeeded, and
 * false as soon as the deadline passes.
 */
export async function runShutdownSteps(
  logger: Logger,
  steps: readonly ShutdownStep[],
  options: ShutdownOptions = {},
): Promise<boolean> {
  const { deadlineMs } = options;
  if (deadlineMs === undefined) return runAll(logger, steps);
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<false>((resolve) => {
    timer = setTimeout(() => {
      logger.error({ deadlineMs }, "shutdown took too long; giving up the steps still running");
      resolve(false);
    }, deadlineMs);
  });
  try {
    return await Promise.race([runAll(logger, steps), deadline]);
  } finally {
    clearTimeout(timer);
  }
}

async function runAll(logger: Logger, steps: readonly ShutdownStep[]): Promise<boolean> {
  let ok = true;
  for (const [name, run] of steps) {
    try {
      await run();
    } catch (err) {
      ok = false;
      logger.error({ err, step: name }, "shutdown step failed; going on with the next");
    }
  }
  return ok;
}

/** Logs a fatal start-up error (such as a ConfigError) and exits 1. */
export function exitOnStartupError(logger: Logger, err: unknown): never {
  logger.fatal({ err }, err instanceof Error ? err.message : "start-up failed");
  process.exit(1);
}
