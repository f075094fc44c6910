import type { Logger } from "./logger.ts";

/** One step of a service's shutdown: what it does, for the log, and the step itself. */
export type ShutdownStep = readonly [name: string, run: () => Promise<unknown>];

/**
 * Runs the steps once on SIGTERM or SIGINT, in order, and exits with 0 when every one succeeded,
 * 1 when any failed. A step that fails does not skip the ones after it: a worker that cannot drain
 * its NATS connection (the server is down) still flushes its traces and closes its metrics.
 * A second signal exits at once.
 */
export function onShutdown(logger: Logger, steps: readonly ShutdownStep[]): void {
  let stopping = false;
  const handle = (signal: NodeJS.Signals) => {
    if (stopping) {
      logger.warn({ signal }, "second signal, exiting now");
      process.exit(1);
    }
    stopping = true;
    logger.info({ signal }, "shutting down");
    void runShutdownSteps(logger, steps).then((ok) => {
      if (ok) logger.info("stopped");
      process.exit(ok ? 0 : 1);
    });
  };
  process.on("SIGTERM", handle);
  process.on("SIGINT", handle);
}

/** Runs every step in order, logging each that fails; resolves with whether all succeeded. */
export async function runShutdownSteps(
  logger: Logger,
  steps: readonly ShutdownStep[],
): Promise<boolean> {
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
