export { jetStreamServerArgs, startNatsServer } from "./nats-server.ts";
export type { NatsServerHandle, StartNatsOptions } from "./nats-server.ts";
export { startMongoServer } from "./mongo-server.ts";
export type { MongoServerHandle, StartMongoOptions } from "./mongo-server.ts";
export { uniqueName } from "./unique-name.ts";
export { waitFor } from "./wait-for.ts";
export type { WaitForOptions } from "./wait-for.ts";
export { MissingBinaryError, ServerStartError, WaitTimeoutError } from "./errors.ts";
// Building blocks shared with tools/stack, which runs the same servers for `npm start`.
export { findBinary, workspaceRoot } from "./binaries.ts";
export { freePort } from "./free-port.ts";
export { probeMongo, probeNats } from "./probes.ts";
export { isNiceness } from "./niceness.ts";
export { spawnServer, superviseChild, waitUntilReady } from "./server-process.ts";
export type { ServerProcess, SpawnServerOptions } from "./server-process.ts";
