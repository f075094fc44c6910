import { join } from "node:path";

import {
  envMs,
  maxTimerMs,
  natsAuthEnv,
  natsAuthOf,
  parseEnv,
  shutdownDeadlineMs,
} from "@conveyor/service-kit";
import type { Env, NatsAuth } from "@conveyor/service-kit";
import { z } from "zod";

import { defaultReadModelNiceness, parseNiceness } from "./read-model-priority.ts";
import { retentionEnv, retentionOptions } from "./retention-env.ts";
import type { RetentionOptions } from "./retention-env.ts";

const port = (fallback: number) => z.coerce.number().int().min(1).max(65_535).default(fallback);
const optionalUrl = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === "" ? undefined : v.trim()));

const stackEnv = z.object({
  NATS_URL: optionalUrl,
  ...natsAuthEnv,
  MONGO_URL: optionalUrl,
  NATS_PORT: port(4222),
  MONGO_PORT: port(27017),
  GATEWAY_PORT: port(8080),
  // The first of four consecutive ports, one per service's GET /metrics.
  METRICS_PORT: port(9464).refine((p) => p <= 65_532, "the four metrics ports must be below 65536"),
  MONGO_DB: z.string().min(1).default("conveyor"),
  // The stack waits for the services' own shutdown deadline, and a second, within a timer's range.
  SHUTDOWN_GRACE_MS: envMs(0, 10_000, maxTimerMs - shutdownDeadlineMs(0) - 1000),
  // Unset or empty: the default, as for the URLs above.
  READ_MODEL_NICENESS: z
    .string()
    .optional()
    .transform((text, ctx) => {
      if (text === undefined || text.trim() === "") return defaultReadModelNiceness;
      const niceness = parseNiceness(text);
      if (niceness === undefined) {
        ctx.addIssue({ code: "custom", message: "expected a whole number from 0 to 19" });
        return z.NEVER;
      }
      return niceness;
    }),
  ...retentionEnv,
});

/** The metrics ports are `METRICS_PORT` and the three after it: the gateway's port must not be one. */
function gatewayOutsideMetricsPorts(env: { GATEWAY_PORT: number; METRICS_PORT: number }): boolean {
  return env.GATEWAY_PORT < env.METRICS_PORT || env.GATEWAY_PORT > env.METRICS_PORT + 3;
}

const gatewayPortClash = {
  path: ["GATEWAY_PORT"],
  message: "must not be METRICS_PORT or one of the three after it (the services' metrics ports)",
};

/** What `npm start` runs, from the environment. */
export interface StackConfig {
  /** Use this NATS server instead of starting one. */
  natsUrl: string | undefined;
  /** How to authenticate to `natsUrl`'s server (`NATS_CREDS`, ...); the services read it too. */
  natsAuth: NatsAuth | undefined;
  /** Use this MongoDB server instead of starting FerretDB. */
  mongoUrl: string | undefined;
  /** Port of the local nats-server. @default 4222 */
  natsPort: number;
  /** Port of the local FerretDB. @default 27017 */
  mongoPort: number;
  /** Database the services use. @default "conveyor" */
  mongoDb: string;
  /** Port the gateway serves REST on. @default 8080 */
  gatewayPort: number;
  /**
   * The gateway's metrics port; the dispatcher, worker and status-projector serve theirs on the
   * next three (`METRICS_PORT`). @default 9464
   */
  metricsPort: number;
  /**
   * How long a service may take to stop before it is killed, in milliseconds: its own shutdown
   * deadline (a worker lets its open pull run out first, then its grace period runs), and a second.
   * @default 10000 + 15000 + 1000
   */
  serviceStopGraceMs: number;
  /** `<workspace>/.data/nats`: JetStream store, kept between runs. */
  natsDataDir: string;
  /** `<workspace>/.data/ferretdb`: SQLite files, kept between runs. */
  ferretdbDataDir: string;
  /** `deploy/nats/local.conf`. */
  natsConfigFile: string;
  /** How long `EVENTS` and `JOBS` keep messages (`EVENTS_MAX_AGE_HOURS`, `JOBS_MAX_AGE_HOURS`). */
  retention: RetentionOptions;
  /**
   * How much nicer than the rest the status-projector and the local FerretDB run, 0-19
   * (`READ_MODEL_NICENESS`; 0 runs them like the rest). @default 10
   */
  readModelNiceness: number;
}

/** Reads the stack's settings; a bad value throws a ConfigError naming the variable. */
export function readStackConfig(env: Env, workspace: string): StackConfig {
  const parsed = parseEnv(stackEnv.refine(gatewayOutsideMetricsPorts, gatewayPortClash), env);
  return {
    natsUrl: parsed.NATS_URL,
    natsAuth: natsAuthOf(parsed),
    mongoUrl: parsed.MONGO_URL,
    natsPort: parsed.NATS_PORT,
    mongoPort: parsed.MONGO_PORT,
    gatewayPort: parsed.GATEWAY_PORT,
    metricsPort: parsed.METRICS_PORT,
    mongoDb: parsed.MONGO_DB,
    // The services drain for SHUTDOWN_GRACE_MS themselves; the margin covers their exit.
    serviceStopGraceMs: shutdownDeadlineMs(parsed.SHUTDOWN_GRACE_MS) + 1000,
    natsDataDir: join(workspace, ".data", "nats"),
    ferretdbDataDir: join(workspace, ".data", "ferretdb"),
    natsConfigFile: join(workspace, "deploy", "nats", "local.conf"),
    retention: retentionOptions(parsed),
    readModelNiceness: parsed.READ_MODEL_NICENESS,
  };
}
