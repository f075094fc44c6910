export { builtinHandlers } from "./builtin-handlers.ts";
export { workerEnv } from "./config.ts";
export type { WorkerEnv } from "./config.ts";
export { echo, EchoPayload } from "./handlers/echo.ts";
export { sleep, SleepPayload, maxSleepMs } from "./handlers/sleep.ts";
export { flaky, FlakyPayload } from "./handlers/flaky.ts";
export { jsonAnalyze, JsonAnalyzePayload } from "./handlers/json-analyze.ts";
export { describeDocument, jsonTypeOf, JsonType } from "./json-analysis/document-shape.ts";
export type { DocumentShape } from "./json-analysis/document-shape.ts";
export {
  analyzeDocuments,
  analyzeShapes,
  decideStorage,
  profileCollection,
  Storage,
} from "./json-analysis/storage-decision.ts";
export type {
  AnalysisResult,
  CollectionProfile,
  DocumentAnalysis,
  StorageDecision,
} from "./json-analysis/storage-decision.ts";
