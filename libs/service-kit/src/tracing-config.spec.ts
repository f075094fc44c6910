import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { z } from "zod";

import { commonEnv, parseEnv } from "./config.ts";
import { ConfigError } from "./errors.ts";
import { createTracing, spanExportLimits } from "./tracing-config.ts";

const schema = z.object(commonEnv);
const logger = pino({ level: "silent" });

function configErrorOf(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error("no ConfigError thrown");
}

describe("createTracing", () => {
  it("reads OpenTelemetry's batch export variables and names a malformed one", () => {
    const env = parseEnv(schema, {
      OTEL_BSP_MAX_QUEUE_SIZE: "8192",
      OTEL_BSP_MAX_EXPORT_BATCH_SIZE: "1024",
      OTEL_BSP_SCHEDULE_DELAY: "1000",
      OTEL_BSP_EXPORT_TIMEOUT: "10000",
    });
    expect(env).toMatchObject({
      OTEL_BSP_MAX_QUEUE_SIZE: 8192,
      OTEL_BSP_MAX_EXPORT_BATCH_SIZE: 1024,
      OTEL_BSP_SCHEDULE_DELAY: 1000,
      OTEL_BSP_EXPORT_TIMEOUT: 10_000,
    });
    const error = configErrorOf(() => parseEnv(schema, { OTEL_BSP_MAX_QUEUE_SIZE: "lots" }));
    expect(error.variables).toEqual(["OTEL_BSP_MAX_QUEUE_SIZE"]);
  });

  it("refuses an OTLP endpoint without http:// or https://, which every export would fail on", () => {
    for (const endpoint of ["otel-collector.observability:4318", "localhost:4318", "ftp://x"]) {
      const error = configErrorOf(() =>
        parseEnv(schema, { OTEL_EXPORTER_OTLP_ENDPOINT: endpoint }),
      );
      expect(error.variables).toEqual(["OTEL_EXPORTER_OTLP_ENDPOINT"]);
    }
    expect(
      parseEnv(schema, { OTEL_EXPORTER_OTLP_ENDPOINT: "https://collector.example:4318" }),
    ).toMatchObject({ OTEL_EXPORTER_OTLP_ENDPOINT: "https://collector.example:4318" });
  });

  it("refuses batch export times a timer cannot hold, which would fail every export", () => {
    for (const name of ["OTEL_BSP_SCHEDULE_DELAY", "OTEL_BSP_EXPORT_TIMEOUT"]) {
      const error = configErrorOf(() => parseEnv(schema, { [name]: "3000000000" }));
      expect(error.variables).toEqual([name]);
    }
  });

  it("takes http/protobuf or http/json as the traces' OTLP protocol and names any other", () => {
    const env = parseEnv(schema, {
      OTEL_EXPORTER_OTLP_PROTOCOL: "http/json",
      OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: "http/protobuf",
    });
    expect(env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL).toBe("http/protobuf");
    // grpc for the other signals is fine while the traces' own protocol says otherwise.
    const overridden = parseEnv(schema, {
      OTEL_EXPORTER_OTLP_PROTOCOL: "grpc",
      OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: "http/json",
    });
    expect(() => createTracing("test", overridden, logger)).not.toThrow();

    const general = parseEnv(schema, { OTEL_EXPORTER_OTLP_PROTOCOL: "grpc" });
    const error = configErrorOf(() => createTracing("test", general, logger));
    expect(error.variables).toEqual(["OTEL_EXPORTER_OTLP_PROTOCOL"]);
    expect(error.message).toContain('"http/protobuf"|"http/json"');
    const traces = configErrorOf(() =>
      parseEnv(schema, { OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: "grpc" }),
    );
    expect(traces.variables).toEqual(["OTEL_EXPORTER_OTLP_TRACES_PROTOCOL"]);
  });

  it("samples new traces as OTEL_TRACES_SAMPLER says, and names a bad sampler or ratio", async () => {
    const env = parseEnv(schema, {
      OTEL_TRACES_SAMPLER: "parentbased_traceidratio",
      OTEL_TRACES_SAMPLER_ARG: "0.25",
    });
    expect(env).toMatchObject({
      OTEL_TRACES_SAMPLER: "parentbased_traceidratio",
      OTEL_TRACES_SAMPLER_ARG: 0.25,
    });
    const off = createTracing(
      "test",
      parseEnv(schema, { OTEL_TRACES_SAMPLER: "always_off" }),
      logger,
    );
    const headers = new Map<string, string>();
    const carrier = {
      get: (key: string) => headers.get(key) ?? "",
      set: (key: string, value: string) => void headers.set(key, value),
      keys: () => [...headers.keys()],
    };
    await off.produce(undefined, { subject: "jobs.submit.echo" }, (ctx) => {
      off.inject(ctx, carrier);
      return Promise.resolve();
    });
    expect(headers.get("traceparent")).toMatch(/-00$/);

    expect(
      configErrorOf(() => parseEnv(schema, { OTEL_TRACES_SAMPLER: "ratio" })).variables,
    ).toEqual(["OTEL_TRACES_SAMPLER"]);
    expect(
      configErrorOf(() => parseEnv(schema, { OTEL_TRACES_SAMPLER_ARG: "2" })).variables,
    ).toEqual(["OTEL_TRACES_SAMPLER_ARG"]);
  });

  it("refuses an OTEL_RESOURCE_ATTRIBUTES value OpenTelemetry would drop, naming it", () => {
    for (const good of ["k8s.pod.name=gateway-5d8f, deployment.environment=prod", "a=1,,b=2,"]) {
      expect(parseEnv(schema, { OTEL_RESOURCE_ATTRIBUTES: good }).OTEL_RESOURCE_ATTRIBUTES).toBe(
        good,
      );
    }
    for (const bad of [
      "k8s.pod.name",
      "=prod",
      "a=b=c,k8s.pod.name=p",
      "a=%zz",
      `a=${"x".repeat(256)}`,
    ]) {
      const error = configErrorOf(() => parseEnv(schema, { OTEL_RESOURCE_ATTRIBUTES: bad }));
      expect(error.variables, bad).toEqual(["OTEL_RESOURCE_ATTRIBUTES"]);
    }
  });

  it("refuses a batch larger than the queue it is taken from, the default queue included", () => {
    const larger = parseEnv(schema, {
      OTEL_BSP_MAX_QUEUE_SIZE: "1000",
      OTEL_BSP_MAX_EXPORT_BATCH_SIZE: "1001",
    });
    const error = configErrorOf(() => createTracing("test", larger, logger));
    expect(error.variables).toEqual(["OTEL_BSP_MAX_EXPORT_BATCH_SIZE"]);
    expect(error.message).toContain("must not exceed OTEL_BSP_MAX_QUEUE_SIZE (1000)");

    const beyondDefault = parseEnv(schema, { OTEL_BSP_MAX_EXPORT_BATCH_SIZE: "1000000" });
    expect(() => createTracing("test", beyondDefault, logger)).toThrow(ConfigError);
  });

  it("takes a queue set alone below the default batch, exporting batches of the queue's size", () => {
    const small = parseEnv(schema, { OTEL_BSP_MAX_QUEUE_SIZE: "1024" });
    expect(spanExportLimits(small)).toMatchObject({ maxQueueSize: 1024, maxExportBatchSize: 1024 });
    expect(() => createTracing("test", small, logger)).not.toThrow();
  });
});
