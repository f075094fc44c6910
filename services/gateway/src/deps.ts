import type { JobTypeRegistry } from "@conveyor/job-registry";
import type { Logger } from "@conveyor/service-kit";
import type { Tracing } from "@conveyor/telemetry";
import type { JetStreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import type { Db } from "mongodb";
import type { Registry } from "prom-client";

/** Limits and deadlines of the gateway. */
export interface GatewayOptions {
  /** Largest accepted `POST /v1/jobs` body, in bytes; larger bodies get a 413. */
  maxBodyBytes: number;
  /** Largest accepted `POST /v1/jobs/bulk` body, in bytes; larger bodies get a 413. */
  maxBulkBodyBytes: number;
  /**
   * How long a submission waits for JetStream's PubAck before answering 503, in milliseconds; also
   * the deadline of the JetStream look-ups behind `/v1/stats`.
   */
  publishTimeoutMs: number;
  /** How long one read-model query may take before answering 503, in milliseconds. @default 5000 */
  readTimeoutMs?: number;
  /** How long each `/readyz` dependency check may take, in milliseconds. @default 1000 */
  readyTimeoutMs?: number;
  /**
   * Whether `POST /v1/jobs` submissions without an id or key that arrive together are stored
   * together as bulk submissions (see `SubmissionBatcher`). Their jobs carry a `traceparent` field
   * that dispatchers before it refuse: turn it off while older dispatchers still run. @default true
   */
  gatherSubmissions?: boolean;
  /**
   * Whether a request's W3C `traceparent` is continued, or ignored so that every request starts a
   * trace of its own (for a gateway untrusted clients reach). @default true
   */
  continueTraces?: boolean;
  /**
   * Requests that may follow a job at once (`GET /v1/jobs/:id?waitMs=` and
   * `GET /v1/jobs/:id/events`); past it, a wait is answered with the job as it is and a stream
   * with 503. @default 1000
   */
  maxJobWaits?: number;
  /**
   * Longest one `GET /v1/jobs/:id/events` stream lasts, in milliseconds; then it ends without
   * `end` and the client reconnects. @default 1800000 (30 minutes)
   */
  jobStreamMaxMs?: number;
  /**
   * Bearer tokens the REST API accepts; when any are given, every request but the probes and
   * `/openapi.json` needs one. @default none (no authentication)
   */
  apiTokens?: readonly string[];
}

/** Everything the gateway talks to, connected by `main.ts` (or a test). */
export interface GatewayDeps {
  /** Publishes go through a pipelined publisher on this connection. */
  nc: NatsConnection;
  jsm: JetStreamManager;
  /** The read-model database (`jobs`, `rejections`, `dead_letters` collections). */
  db: Db;
  /** Registered job types, kept current by a KV watch. */
  registry: JobTypeRegistry;
  tracing: Tracing;
  /** Where request durations are recorded (`GET /metrics`); none when undefined. */
  metrics?: Registry | undefined;
  logger: Logger;
  options: GatewayOptions;
  /**
   * Aborted when the gateway starts stopping: requests waiting for a job to finish are answered
   * at once, with the job as it is, and streams of a job's events end. @default never
   */
  stopping?: AbortSignal;
}
