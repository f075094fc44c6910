import { setTimeout as sleep } from "node:timers/promises";

import { JetStreamApiCodes, JetStreamApiError } from "@nats-io/jetstream";
import type { JetStreamManager } from "@nats-io/jetstream";

import { ensureTopology } from "./ensure-topology.ts";
import { TopologyUpdateError } from "./errors.ts";
import { notAnsweringYet } from "./not-answering-yet.ts";
import type { TopologyOptions } from "./options.ts";

export interface EnsureWhenReadyOptions {
  /** How long to keep trying while JetStream does not answer yet, in milliseconds. */
  timeoutMs: number;
  /** Between tries. @default 1000 */
  pollMs?: number;
  /** Warned once, when JetStream first does not answer. */
  logger?: { warn(fields: { err: unknown }, message: string): void };
}

/**
 * {@link ensureTopology}, tried again every `pollMs` while JetStream does not answer yet (a server
 * just started, or its cluster electing a leader), for at most `timeoutMs`: the topology Job of a
 * first `kubectl apply` starts beside nats-server. Each try is idempotent. Any other error
 * (permissions, a setting JetStream refuses) is thrown at once, as is the last after `timeoutMs`;
 * JetStream not enabled for the account counts as not answering yet, as in `awaitTopology`.
 */
export async function ensureTopologyWhenReady(
  jsm: JetStreamManager,
  topology: TopologyOptions,
  { timeoutMs, pollMs = 1000, logger }: EnsureWhenReadyOptions,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (let warned = false; ; warned = true) {
    try {
      await ensureTopology(jsm, topology);
      return;
    } catch (err) {
      if (!startingUp(err) || Date.now() + pollMs > deadline) throw err;
      if (!warned) logger?.warn({ err }, "waiting for JetStream to answer");
    }
    await sleep(pollMs);
  }
}

/**
 * Whether JetStream did not answer yet: the error itself, or a {@link TopologyUpdateError} (which
 * provisions each resource on its own) where some resource met that and the others at most a
 * stream not found: a cluster that elects its leader during a run answers the streams created
 * before "temporarily unavailable", and their consumers after it "stream not found".
 */
export function startingUp(err: unknown): boolean {
  if (notAnsweringYet(err)) return true;
  if (!(err instanceof TopologyUpdateError) || !(err.cause instanceof AggregateError)) return false;
  const causes: unknown[] = err.cause.errors;
  return (
    causes.some(notAnsweringYet) &&
    causes.every((cause) => notAnsweringYet(cause) || notFound(cause))
  );
}

/** JetStream's "stream not found" and "consumer not found". */
function notFound(err: unknown): boolean {
  return (
    err instanceof JetStreamApiError &&
    (err.code === JetStreamApiCodes.StreamNotFound ||
      err.code === JetStreamApiCodes.ConsumerNotFound)
  );
}
