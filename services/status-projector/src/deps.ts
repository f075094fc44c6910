import type { Logger } from "@conveyor/service-kit";
import type { Tracing } from "@conveyor/telemetry";
import type { JetStreamClient } from "@nats-io/jetstream";
import type { Db } from "mongodb";

import type { ProjectorOptions } from "./options.ts";

/** What the projector is built from; `main.ts` wires them from the environment. */
export interface ProjectorDeps {
  js: JetStreamClient;
  /** The read-model database; its indexes are created by the caller (`ensureIndexes`). */
  db: Db;
  logger: Logger;
  tracing: Tracing;
  options?: ProjectorOptions;
}
