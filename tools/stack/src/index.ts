export { Pins } from "./pins.ts";
export { provisionBenchTools, provisionTools } from "./provision-tools.ts";
export type {
  ProvisionOptions,
  ProvisionedBenchTools,
  ProvisionedTools,
} from "./provision-tools.ts";
export { ServiceCode, serviceCommand, serviceNames, spawnService } from "./service-process.ts";
export type { ServiceCommand, ServiceName, SpawnServiceOptions } from "./service-process.ts";
export { defaultReadModelNiceness, parseNiceness, serviceNiceness } from "./read-model-priority.ts";
export { runCommand } from "./run-command.ts";
export type { CommandResult, RunCommandOptions } from "./run-command.ts";
export { createLineSplitter } from "./line-splitter.ts";
export type { LineSplitter } from "./line-splitter.ts";
export { createPrefixer, formatLogLine } from "./log-format.ts";
export type { FormatOptions, Prefixer } from "./log-format.ts";
export { ProvisionError, StackError } from "./errors.ts";
export { prepareStackTopology } from "./stack-topology.ts";
export type { StackTopology } from "./stack-topology.ts";
