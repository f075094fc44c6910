import {
  Tracing,
  defaultSpanExportLimits,
  otlpProtocols,
  resourceAttributesProblem,
  traceSampler,
  traceSamplers,
} from "@conveyor/telemetry";
import type { OtlpProtocol, SpanExportLimits } from "@conveyor/telemetry";
import type { Logger } from "pino";
import { z } from "zod";

import { ConfigError } from "./errors.ts";
import { repeatLimitedWarn } from "./repeat-limited-log.ts";
import { maxTimerMs } from "./timer-limit.ts";

/** OpenTelemetry's variables that the services read (part of `commonEnv`). */
export const tracingEnv = {
  /** OTLP/HTTP endpoint for traces (e.g. http://127.0.0.1:4318); tracing exports nothing when unset. */
  OTEL_EXPORTER_OTLP_ENDPOINT: z
    .url({ protocol: /^https?$/, error: "must be an http:// or https:// URL" })
    .optional(),
  /**
   * The full URL traces are sent to (e.g. http://127.0.0.1:4318/v1/traces), used as given; wins
   * over OTEL_EXPORTER_OTLP_ENDPOINT, as OpenTelemetry specifies.
   */
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: z
    .url({ protocol: /^https?$/, error: "must be an http:// or https:// URL" })
    .optional(),
  /** How spans are encoded: `http/protobuf` (OpenTelemetry's default) or `http/json`. */
  OTEL_EXPORTER_OTLP_PROTOCOL: z.string().optional(),
  /** The same for traces alone; wins over OTEL_EXPORTER_OTLP_PROTOCOL, as OpenTelemetry specifies. */
  OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: z.enum(otlpProtocols).optional(),
  /**
   * Which new traces are recorded, by OpenTelemetry's names; a trace's decision is made where it
   * starts (the gateway, the dispatcher for a NATS submission without `traceparent`, a client).
   */
  OTEL_TRACES_SAMPLER: z.enum(traceSamplers).optional(),
  /** The ratio of the `traceidratio` samplers, 0 to 1. */
  OTEL_TRACES_SAMPLER_ARG: z.coerce.number().min(0).max(1).optional(),
  /**
   * Attributes every span's resource carries besides `service.name` and `service.instance.id`,
   * e.g. `k8s.pod.name=...,deployment.environment=prod`. OpenTelemetry reads it; it is checked
   * here so that a malformed value stops the service instead of being ignored.
   */
  OTEL_RESOURCE_ATTRIBUTES: z
    .string()
    .superRefine((value, ctx) => {
      const problem = resourceAttributesProblem(value);
      if (problem !== undefined) ctx.addIssue({ code: "custom", message: problem });
    })
    .optional(),
  /** Finished spans held for export; spans ending while it is full are dropped, and logged. */
  OTEL_BSP_MAX_QUEUE_SIZE: z.coerce.number().int().min(1).optional(),
  /** Spans sent in one export, at most OTEL_BSP_MAX_QUEUE_SIZE. */
  OTEL_BSP_MAX_EXPORT_BATCH_SIZE: z.coerce.number().int().min(1).optional(),
  /** Longest wait before a smaller batch of spans is sent, in milliseconds. */
  OTEL_BSP_SCHEDULE_DELAY: z.coerce.number().int().min(0).max(maxTimerMs).optional(),
  /** How long one export may take, in milliseconds (a longer time than a timer holds fires at once). */
  OTEL_BSP_EXPORT_TIMEOUT: z.coerce.number().int().min(1).max(maxTimerMs).optional(),
} as const;

export type TracingEnv = z.infer<z.ZodObject<typeof tracingEnv>>;

/** How often one kind of OpenTelemetry problem (dropped spans, a failed export) is logged at most. */
const exportProblemLogIntervalMs = 10_000;

/**
 * The service's tracing, from the variables of {@link tracingEnv}. OpenTelemetry's warnings (spans
 * dropped because the export queue was full, exports that failed) go to `logger`, one line per
 * kind per 10 s. Throws a {@link ConfigError} when a batch would exceed the queue.
 */
export function createTracing(serviceName: string, env: TracingEnv, logger: Logger): Tracing {
  const exportLimits = spanExportLimits(env);
  return Tracing.create({
    serviceName,
    otlpEndpoint: env.OTEL_EXPORTER_OTLP_ENDPOINT,
    otlpTracesEndpoint: env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT,
    otlpProtocol: otlpProtocol(env),
    exportLimits,
    sampler: traceSampler(
      env.OTEL_TRACES_SAMPLER ?? "parentbased_always_on",
      env.OTEL_TRACES_SAMPLER_ARG,
    ),
    onExportProblem: repeatLimitedWarn(
      logger.child({ component: "tracing" }),
      exportProblemLogIntervalMs,
    ),
  });
}

/**
 * The traces' protocol: OTEL_EXPORTER_OTLP_TRACES_PROTOCOL, else OTEL_EXPORTER_OTLP_PROTOCOL. The
 * general one is checked only when it applies: it may name `grpc` for other signals' exporters
 * while the traces' own says `http/protobuf`.
 */
function otlpProtocol(env: TracingEnv): OtlpProtocol | undefined {
  const general = env.OTEL_EXPORTER_OTLP_PROTOCOL;
  if (env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL !== undefined || general === undefined) {
    return env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL;
  }
  const known = otlpProtocols.find((protocol) => protocol === general);
  if (known === undefined) {
    throw new ConfigError(
      `invalid configuration: OTEL_EXPORTER_OTLP_PROTOCOL: expected one of ${otlpProtocols.map((p) => `"${p}"`).join("|")}, got "${general}"`,
      ["OTEL_EXPORTER_OTLP_PROTOCOL"],
    );
  }
  return known;
}

/**
 * The span export limits of the OTEL_BSP_* variables, defaults for those not set. A batch not set
 * is at most the queue (as OpenTelemetry's SDK does), so that a queue set alone below the default
 * batch is not refused for a batch nobody asked for; one set larger than the queue is refused.
 */
export function spanExportLimits(env: TracingEnv): SpanExportLimits {
  const maxQueueSize = env.OTEL_BSP_MAX_QUEUE_SIZE ?? defaultSpanExportLimits.maxQueueSize;
  const limits: SpanExportLimits = {
    maxQueueSize,
    maxExportBatchSize:
      env.OTEL_BSP_MAX_EXPORT_BATCH_SIZE ??
      Math.min(defaultSpanExportLimits.maxExportBatchSize, maxQueueSize),
    scheduledDelayMillis:
      env.OTEL_BSP_SCHEDULE_DELAY ?? defaultSpanExportLimits.scheduledDelayMillis,
    exportTimeoutMillis: env.OTEL_BSP_EXPORT_TIMEOUT ?? defaultSpanExportLimits.exportTimeoutMillis,
  };
  if (limits.maxExportBatchSize > limits.maxQueueSize) {
    throw new ConfigError(
      `invalid configuration: OTEL_BSP_MAX_EXPORT_BATCH_SIZE (${limits.maxExportBatchSize}) must not exceed OTEL_BSP_MAX_QUEUE_SIZE (${limits.maxQueueSize})`,
      ["OTEL_BSP_MAX_EXPORT_BATCH_SIZE"],
    );
  }
  return limits;
}
