export { FieldsCarrier } from "./fields-carrier.ts";
export { Tracing, injectTraceContext, traceIdOfContext } from "./tracing.ts";
export type { HeaderCarrier, SpanAttributes, TraceContext, TracingOptions } from "./tracing.ts";
