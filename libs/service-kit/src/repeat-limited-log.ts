import type { Logger } from "pino";

/**
 * A warning function that logs a message at once and then the same kind of message (the same
 * text with other numbers: "Dropped 12 spans", "Dropped 40 spans") at most once per `intervalMs`,
 * saying how many it left out since. A problem that repeats with every export, such as an
 * unreachable trace collector under load, then costs a log line per interval instead of hundreds.
 */
export function repeatLimitedWarn(
  logger: Logger,
  intervalMs: number,
  now: () => number = Date.now,
): (message: string) => void {
  const kinds = new Map<string, { loggedAt: number; leftOut: number }>();
  return (message) => {
    const kind = message.replace(/\d+/g, "#");
    const seen = kinds.get(kind);
    const at = now();
    if (seen !== undefined && at - seen.loggedAt < intervalMs) {
      seen.leftOut += 1;
      return;
    }
    const leftOut = seen?.leftOut ?? 0;
    kinds.set(kind, { loggedAt: at, leftOut: 0 });
    logger.warn(leftOut > 0 ? { similarLeftOut: leftOut } : {}, message);
  };
}
