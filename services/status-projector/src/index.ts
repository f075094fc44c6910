export { createProjector } from "./projector.ts";
export type { Projector } from "./projector.ts";
export type { ProjectorDeps } from "./deps.ts";
export type { ProjectorOptions } from "./options.ts";
export { projectorEnv } from "./config.ts";
export type { ProjectorEnv } from "./config.ts";
export { ConsumerGoneError, StoreTimeoutError } from "./errors.ts";
