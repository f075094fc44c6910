export { FieldsCarrier } from "./fields-carrier.ts";
export { Tracing, traceIdOfContext } from "./tracing.ts";
export type { HeaderCarrier, SpanAttributes, TraceContext, TracingOptions } from "./tracing.ts";
