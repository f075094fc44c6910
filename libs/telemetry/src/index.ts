export { FieldsCarrier } from "./fields-carrier.ts";
export {
  Tracing,
  defaultSpanExportLimits,
  injectTraceContext,
  otlpProtocols,
  resourceAttributesProblem,
  traceIdOfContext,
  traceIdOfTraceparent,
} from "./tracing.ts";
export type {
  HeaderCarrier,
  HttpTraceHeaders,
  OtlpProtocol,
  SpanAttributes,
  SpanExportLimits,
  TraceContext,
  TracingOptions,
} from "./tracing.ts";
export { traceSampler, traceSamplers } from "./samplers.ts";
export type { TraceSamplerName } from "./samplers.ts";
