export {
  createMissingTopology,
  ensureProjectorConsumers,
  ensureTopology,
  ensureWorkConsumer,
} from "./ensure-topology.ts";
export { verifyTopology } from "./verify-topology.ts";
export { ensureTopologyWhenReady } from "./ensure-when-ready.ts";
export type { EnsureWhenReadyOptions } from "./ensure-when-ready.ts";
export { awaitTopology } from "./await-topology.ts";
export type { AwaitTopologyOptions } from "./await-topology.ts";
export { TopologyError, TopologyUpdateError } from "./errors.ts";
export type { TopologyOptions } from "./options.ts";
export { defaultMaxAgeMs } from "./options.ts";
export type { WorkConsumerOptions } from "./consumers.ts";
export { defaultAckWaitMs, intakeMaxDeliver, workMaxDeliverCap } from "./consumers.ts";
