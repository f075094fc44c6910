import { createLogger } from "@conveyor/service-kit";
import { Registry } from "prom-client";
import { describe, expect, it } from "vitest";

import { workerMetrics } from "./worker-metrics.ts";

describe("workerMetrics", () => {
  it("times an attempt's wait for its rate limit apart from its handler's run", async () => {
    const registry = new Registry();
    const metrics = workerMetrics(registry, createLogger("test", "silent"), ["sms.send"]);
    metrics.onAttemptEnd({
      type: "sms.send",
      outcome: "succeeded",
      durationMs: 20,
      rateLimitedMs: 1500,
    });
    metrics.onAttemptEnd({
      type: "sms.send",
      outcome: "succeeded",
      durationMs: 30,
      rateLimitedMs: 0,
    });
    const text = await registry.metrics();
    expect(text).toContain('conveyor_job_rate_limit_wait_seconds_count{type="sms.send"} 1');
    expect(text).toContain('conveyor_job_rate_limit_wait_seconds_sum{type="sms.send"} 1.5');
    expect(text).toContain(
      'conveyor_job_attempt_duration_seconds_count{type="sms.send",outcome="succeeded"} 2',
    );
  });
});
