import { z } from "zod";

import { ConfigError } from "./errors.ts";
import { metricsEnv } from "./metrics.ts";
import { natsAuthEnv } from "./nats-auth.ts";
import { defaultNatsPingIntervalMs } from "./nats-connection.ts";
import { maxTimerMs } from "./timer-limit.ts";
import { tracingEnv } from "./tracing-config.ts";

export type Env = Readonly<Record<string, string | undefined>>;

/**
 * Parses environment variables with a zod object schema whose keys are the variable names, and
 * throws a {@link ConfigError} naming every bad variable. Call once, in `main.ts`.
 *
 * A variable set to nothing but blanks counts as unset, as OpenTelemetry's do: a compose file's
 * `VAR: ${VAR}` or an empty Helm value would otherwise read as 0 (`SHUTDOWN_GRACE_MS`) or fail to
 * start the service (`OTEL_EXPORTER_OTLP_ENDPOINT`).
 */
export function parseEnv<S extends z.ZodObject>(schema: S, env: Env = process.env): z.infer<S> {
  const result = schema.safeParse(withoutBlanks(env));
  if (result.success) return result.data;
  const variables = [...new Set(result.error.issues.map((i) => String(i.path[0] ?? "(env)")))];
  const details = result.error.issues
    .map((i) => `${String(i.path[0] ?? "(env)")}: ${i.message}`)
    .join("; ");
  throw new ConfigError(`invalid configuration: ${details}`, variables);
}

function withoutBlanks(env: Env): Env {
  return Object.fromEntries(Object.entries(env).filter(([, value]) => value?.trim() !== ""));
}

/** A positive integer from an environment variable, e.g. `WORKER_CONCURRENCY`. */
export const envInt = (min: number, fallback: number, max = Number.MAX_SAFE_INTEGER) =>
  z.coerce.number().int().min(min).max(max).default(fallback);

export { maxTimerMs } from "./timer-limit.ts";

/**
 * A time in milliseconds that a timer waits for, from `min` and at most {@link maxTimerMs} (or
 * `max`): Node fires a timer set longer at once, so a long grace period would end immediately.
 */
export const envMs = (min: number, fallback: number, max = maxTimerMs) =>
  envInt(min, fallback, Math.min(max, maxTimerMs));

/** How long a starting service waits for NATS and the topology by default (`TOPOLOGY_WAIT_MS`). */
export const defaultTopologyWaitMs = 120_000;

/** Environment variables every service reads. */
export const commonEnv = {
  /** One server's URL or several, comma-separated (`host:port` means `nats://host:port`). */
  NATS_URL: z
    .string()
    .min(1)
    .default("nats://127.0.0.1:4222")
    .transform((text, ctx) => {
      const servers = text
        .split(",")
        .map((entry) => entry.trim())
        .filter((entry) => entry !== "");
      const bad = servers.findIndex((entry) => !isServerUrl(entry));
      if (servers.length === 0 || bad !== -1) {
        // Named by its place, not shown: an entry that does not parse may hold a password whole
        // (one holding a `,` is even split across two entries).
        ctx.addIssue({
          code: "custom",
          message:
            bad === -1
              ? "names no server"
              : `entry ${bad + 1} of ${servers.length} is not a server URL (nats://host:port; a password holding / @ , or : percent-encoded)`,
        });
        return z.NEVER;
      }
      return servers.join(",");
    }),
  ...natsAuthEnv,
  /** How often each connection pings nats-server; three intervals unanswered and it reconnects. */
  NATS_PING_INTERVAL_MS: envMs(100, defaultNatsPingIntervalMs),
  LOG_LEVEL: z.enum(["trace", "debug", "info", "warn", "error", "fatal", "silent"]).default("info"),
  /** How long a draining service may take to finish in-flight work, in milliseconds. */
  SHUTDOWN_GRACE_MS: envMs(0, 10_000),
  /**
   * How long a starting service waits for NATS to accept connections, JetStream to answer and the
   * topology to be provisioned, all told (a node restart, or the first `kubectl apply`, which
   * starts the topology Job beside the services), in milliseconds; 0 tries once.
   */
  TOPOLOGY_WAIT_MS: envMs(0, defaultTopologyWaitMs),
  ...tracingEnv,
  ...metricsEnv,
} as const;

export const mongoEnv = {
  MONGO_URL: z.string().min(1).default("mongodb://127.0.0.1:27017"),
  MONGO_DB: z.string().min(1).default("conveyor"),
} as const;

/** Whether nats.js can connect to `entry`, which it reads as `nats://entry` without a scheme. */
function isServerUrl(entry: string): boolean {
  try {
    const url = new URL(entry.includes("://") ? entry : `nats://${entry}`);
    return url.hostname !== "";
  } catch {
    return false;
  }
}
