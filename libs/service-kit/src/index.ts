export { ConfigError } from "./errors.ts";
export { parseEnv, commonEnv, mongoEnv, envInt } from "./config.ts";
export type { Env } from "./config.ts";
export { createLogger } from "./logger.ts";
export type { Logger } from "./logger.ts";
export { connectNats } from "./nats-connection.ts";
export type { NatsConnectOptions } from "./nats-connection.ts";
export { onShutdown, exitOnStartupError } from "./shutdown.ts";
