import { pino } from "pino";
import type { Logger } from "pino";

export type { Logger } from "pino";

/** JSON logs on stdout, one line per record, tagged with the service name. */
export function createLogger(service: string, level = "info"): Logger {
  return pino({
    name: service,
    level,
    base: { service, pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
  });
}
