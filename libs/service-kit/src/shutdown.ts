import type { Logger } from "./logger.ts";

/**
 * Runs `stop` once on SIGTERM or SIGINT and exits with 0 when it finishes, 1 when it throws.
 * A second signal exits at once.
 */
export function onShutdown(logger: Logger, stop: () => Promise<void>): void {
  let stopping = false;
  const handle = (signal: NodeJS.Signals) => {
    if (stopping) {
      logger.warn({ signal }, "second signal, exiting now");
      process.exit(1);
    }
    stopping = true;
    logger.info({ signal }, "shutting down");
    stop().then(
      () => {
        logger.info("stopped");
        process.exit(0);
      },
      (err: unknown) => {
        logger.error({ err }, "shutdown failed");
        process.exit(1);
      },
    );
  };
  process.on("SIGTERM", handle);
  process.on("SIGINT", handle);
}

/** Logs a fatal start-up error (such as a ConfigError) and exits 1. */
export function exitOnStartupError(logger: Logger, err: unknown): never {
  logger.fatal({ err }, err instanceof Error ? err.message : "start-up failed");
  process.exit(1);
}
