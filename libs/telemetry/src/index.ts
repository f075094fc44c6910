export { FieldsCarrier } from "./fields-carrier.ts";
export { Tracing, injectTraceContext, traceIdOfContext, traceIdOfTraceparent } from "./tracing.ts";
export type { HeaderCarrier, SpanAttributes, TraceContext, TracingOptions } from "./tracing.ts";
