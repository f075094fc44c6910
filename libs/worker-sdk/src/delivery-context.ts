import type { Logger } from "@conveyor/service-kit";

import type { JobContext } from "./handler.ts";

/** What a {@link DeliveryContext} is made of: the context, with a maker of its logger. */
export type DeliveryContextParts = Omit<JobContext, "log"> & {
  /** Makes the job's logger; called on the first use of `log` only. */
  makeLogger: () => Logger;
};

/**
 * The {@link JobContext} a delivery gives its handler. A class rather than an object literal for
 * its lazy `log`: a literal with a getter gets a fresh accessor on every evaluation, which V8
 * keeps in the old generation, and through it each job's closures survived young-generation
 * collections until the next full one (bench/README.md, Diagnostics); a class shares one
 * getter. `progress` and `heartbeat` stay own functions, so a handler may pass them on unbound.
 */
export class DeliveryContext implements JobContext {
  readonly jobId: string;
  readonly type: string;
  readonly attempt: number;
  readonly maxAttempts: number;
  readonly traceId: string | undefined;
  readonly workerId: string;
  readonly signal: AbortSignal;
  readonly progress: JobContext["progress"];
  readonly heartbeat: JobContext["heartbeat"];
  readonly #makeLogger: () => Logger;
  #logger: Logger | undefined;

  constructor(parts: DeliveryContextParts) {
    this.jobId = parts.jobId;
    this.type = parts.type;
    this.attempt = parts.attempt;
    this.maxAttempts = parts.maxAttempts;
    this.traceId = parts.traceId;
    this.workerId = parts.workerId;
    this.signal = parts.signal;
    this.progress = parts.progress;
    this.heartbeat = parts.heartbeat;
    this.#makeLogger = parts.makeLogger;
  }

  get log(): Logger {
    return (this.#logger ??= this.#makeLogger());
  }
}
