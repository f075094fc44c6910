export { FieldsCarrier } from "./fields-carrier.ts";
export {
  Tracing,
  defaultSpanExportLimits,
  injectTraceContext,
  traceIdOfContext,
  traceIdOfTraceparent,
} from "./tracing.ts";
export type {
  HeaderCarrier,
  SpanAttributes,
  SpanExportLimits,
  TraceContext,
  TracingOptions,
} from "./tracing.ts";
