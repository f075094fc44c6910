export { createGatewayApp } from "./app.ts";
export type { GatewayDeps, GatewayOptions } from "./deps.ts";
export { ApiError, ErrorCode } from "./errors.ts";
export { buildOpenApi } from "./openapi/build-openapi.ts";
export type { ApiInfo } from "./openapi/build-openapi.ts";
export { defaultReadyTimeoutMs } from "./routes/health.ts";
export { waitForJob } from "./jobs/wait-for-job.ts";
