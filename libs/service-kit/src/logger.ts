import { pino } from "pino";
import type { Logger } from "pino";

export type { Logger } from "pino";

/**
 * JSON logs on stdout, one line per record, tagged with the service name. Written synchronously:
 * pino's default asynchronous destination writes what is still queued at exit with a `flushSync`
 * (sonic-boom 4) that retries a broken pipe for ever, so a service whose reader is gone (npm start
 * killed outright) hung in its exit, holding its ports, instead of ending. A synchronous write
 * sees the broken pipe at once, and pino then stops logging. At `info` the services log their
 * lifecycle and each refusal, never one line per job run, so a write per line is cheap.
 */
export function createLogger(service: string, level = "info"): Logger {
  return pino(
    {
      name: service,
      level,
      base: { service, pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    pino.destination({ dest: 1, sync: true }),
  );
}
