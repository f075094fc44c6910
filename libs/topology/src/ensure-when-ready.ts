import { setTimeout as sleep } from "node:timers/promises";

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
 * (permissions, a setting JetStream refuses) is thrown at once, as is the last after `timeoutMs`.
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
 * Whether JetStream did not answer yet: the error itself, or every resource's failure of a
 * {@link TopologyUpdateError} (which provisions each resource on its own).
 */
function startingUp(err: unknown): boolean {
  if (notAnsweringYet(err)) return true;
  if (!(err instanceof TopologyUpdateError) || !(err.cause instanceof AggregateError)) return false;
  const causes: unknown[] = err.cause.errors;
  return causes.length > 0 && causes.every(notAnsweringYet);
}
