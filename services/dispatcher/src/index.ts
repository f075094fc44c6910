export { createDispatcher } from "./dispatcher.ts";
export type { Dispatcher, DispatcherDeps, DispatcherOptions } from "./dispatcher.ts";
export { dispatcherEnv } from "./config.ts";
export type { DispatcherEnv } from "./config.ts";
