import { commonEnv, createLogger, createTracing, parseEnv } from "@conveyor/service-kit";
import { ROOT_CONTEXT } from "@opentelemetry/api";
import { describe, expect, it } from "vitest";
import { z } from "zod";

import { startOtlpReceiver } from "../support/otlp-receiver.ts";

describe("where a service exports its spans", () => {
  it("sends them to OTEL_EXPORTER_OTLP_TRACES_ENDPOINT as given, as OpenTelemetry specifies", async () => {
    await using receiver = await startOtlpReceiver();
    const env = parseEnv(z.object(commonEnv), {
      // Wins over the general endpoint, which points nowhere.
      OTEL_EXPORTER_OTLP_ENDPOINT: "http://127.0.0.1:1",
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `${receiver.url}/v1/traces`,
    });
    const tracing = createTracing("endpoint-test", env, createLogger("test", "silent"));
    await tracing.internal({ otelContext: ROOT_CONTEXT }, "exported", {}, () => Promise.resolve());
    await tracing.shutdown();
    expect(receiver.spans().map((span) => span.name)).toContain("exported");
  });
});
