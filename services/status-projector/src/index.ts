export { createProjector } from "./projector.ts";
export type { Projector } from "./projector.ts";
export type { ProjectorDeps } from "./deps.ts";
export type { ProjectorOptions } from "./options.ts";
export { projectorEnv, retentionPolicy } from "./config.ts";
export { RetentionSweeper } from "./retention-sweeper.ts";
export type { RetentionSweeperOptions } from "./retention-sweeper.ts";
export type { ProjectorEnv } from "./config.ts";
export { ConsumerGoneError, StoreTimeoutError } from "./errors.ts";
