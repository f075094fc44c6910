export { ConfigError, PublisherClosedError, RepliesRefusedError } from "./errors.ts";
export {
  parseEnv,
  commonEnv,
  mongoEnv,
  envInt,
  envMs,
  maxTimerMs,
  defaultTopologyWaitMs,
} from "./config.ts";
export type { Env } from "./config.ts";
export { createLogger } from "./logger.ts";
export { createTracing, tracingEnv } from "./tracing-config.ts";
export type { TracingEnv } from "./tracing-config.ts";
export type { Logger } from "./logger.ts";
export { connectNats, exitWhenNatsCloses } from "./nats-connection.ts";
export type { NatsConnectOptions } from "./nats-connection.ts";
export { connectService } from "./service-connection.ts";
export type {
  ConnectServiceOptions,
  ServiceConnection,
  ServiceConnectionEnv,
} from "./service-connection.ts";
export { natsAuthEnv, natsAuthenticator, natsAuthOf } from "./nats-auth.ts";
export type { NatsAuth, NatsAuthEnv } from "./nats-auth.ts";
export {
  onShutdown,
  exitOnStartupError,
  runShutdownSteps,
  shutdownDeadlineMs,
} from "./shutdown.ts";
export type { ShutdownOptions, ShutdownStep } from "./shutdown.ts";
export { KvFollower } from "./kv-follower.ts";
export { isWrongRevision, updateByRevision } from "./kv-revisions.ts";
export type { RevisionedKv } from "./kv-revisions.ts";
export type { KvChange, KvFollowerHandlers, KvFollowerOptions } from "./kv-follower.ts";
export { JetStreamPublisher } from "./jetstream-publisher.ts";
export { ChurnTable } from "./churn-table.ts";
export { carriedHeaders, outgoingHeaders } from "./outgoing-headers.ts";
export type {
  JetStreamPublishOptions,
  JetStreamPublisherOptions,
  OutgoingMessage,
  WithdrawablePublish,
} from "./jetstream-publisher.ts";
export { headersOrNone, readHeaders, storedHeadersOrEmpty } from "./message-headers.ts";
export type { ReadHeaders } from "./message-headers.ts";
export { metricsEnv, startMetrics } from "./metrics.ts";
export { registerScrapedGauge } from "./scraped-gauge.ts";
export type { GaugeSample, ScrapedGaugeOptions } from "./scraped-gauge.ts";
export { registerMailboxMetrics } from "./consumer-metrics.ts";
export type { Mailbox } from "./consumer-metrics.ts";
export type { ServiceMetrics } from "./metrics.ts";
export { checkSubmissionLimit, recordHeadroomBytes } from "./submission-limit.ts";
export { redactUrls } from "./redact-url.ts";
export { isMessageTooLarge } from "./message-too-large.ts";
export { isNatsOutage } from "./nats-outage.ts";
export { waitAtMost } from "./wait-at-most.ts";
