import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  ParentBasedSampler,
  TraceIdRatioBasedSampler,
} from "@opentelemetry/sdk-trace";
import type { Sampler } from "@opentelemetry/sdk-trace";

/** OpenTelemetry's names of its built-in samplers, as `OTEL_TRACES_SAMPLER` takes them. */
export const traceSamplers = [
  "always_on",
  "always_off",
  "traceidratio",
  "parentbased_always_on",
  "parentbased_always_off",
  "parentbased_traceidratio",
] as const;
export type TraceSamplerName = (typeof traceSamplers)[number];

/**
 * The sampler `OTEL_TRACES_SAMPLER` names; `ratio` (`OTEL_TRACES_SAMPLER_ARG`, default 1) is the
 * share of new traces the `traceidratio` ones record, decided by the trace id, so every service
 * configured alike decides the same for a trace.
 */
export function traceSampler(name: TraceSamplerName, ratio = 1): Sampler {
  switch (name) {
    case "always_on":
      return new AlwaysOnSampler();
    case "always_off":
      return new AlwaysOffSampler();
    case "traceidratio":
      return new TraceIdRatioBasedSampler(ratio);
    case "parentbased_always_on":
      return new ParentBasedSampler({ root: new AlwaysOnSampler() });
    case "parentbased_always_off":
      return new ParentBasedSampler({ root: new AlwaysOffSampler() });
    case "parentbased_traceidratio":
      return new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(ratio) });
  }
}
