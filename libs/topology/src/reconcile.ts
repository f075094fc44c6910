import { JetStreamApiCodes, JetStreamApiError } from "@nats-io/jetstream";
import type { ConsumerInfo, JetStreamManager, StreamInfo } from "@nats-io/jetstream";

import type { ConsumerPlacement } from "./consumers.ts";
import type { StreamSpec } from "./streams.ts";

/** What reconciling one resource did. */
export type ReconcileOutcome = "created" | "updated" | "unchanged";

/**
 * Creates the stream, or updates it when any field Conveyor decides differs. Fields the server
 * defaults (and operators may tune) are left as they are.
 */
export async function reconcileStream(
  jsm: JetStreamManager,
  spec: StreamSpec,
): Promise<ReconcileOutcome> {
  const existing = await streamInfo(jsm, spec.name);
  if (!existing) {
    try {
      await jsm.streams.add(spec);
      return "created";
    } catch (err) {
      // Another process may have created it between our look-up and our add.
      const raced = await streamInfo(jsm, spec.name);
      if (!raced) throw err;
      return updateStreamIfChanged(jsm, spec, raced);
    }
  }
  return updateStreamIfChanged(jsm, spec, existing);
}

async function updateStreamIfChanged(
  jsm: JetStreamManager,
  spec: StreamSpec,
  existing: StreamInfo,
): Promise<ReconcileOutcome> {
  if (differs(spec, existing.config)) {
    await jsm.streams.update(spec.name, spec);
    return "updated";
  }
  return "unchanged";
}

/**
 * Creates the durable consumer, or updates it when any field Conveyor decides differs; with
 * `keepLongerAckWait`, a longer `ack_wait` than `config`'s stays. Resolves with what it did
 * ({@link reconcileConsumerConfig} also says what the consumer has after it).
 */
export async function reconcileConsumer(
  jsm: JetStreamManager,
  placement: ConsumerPlacement,
): Promise<ReconcileOutcome> {
  return (await reconcileConsumerConfig(jsm, placement)).outcome;
}

/** {@link reconcileConsumer}, with the configuration the consumer has after it. */
export async function reconcileConsumerConfig(
  jsm: JetStreamManager,
  placement: ConsumerPlacement,
): Promise<{ outcome: ReconcileOutcome; config: ConsumerPlacement["config"] }> {
  const { stream, config } = placement;
  const existing = await consumerInfo(jsm, stream, config.durable_name ?? "");
  if (!existing) {
    try {
      await jsm.consumers.add(stream, config);
      return { outcome: "created", config };
    } catch (err) {
      const raced = await consumerInfo(jsm, stream, config.durable_name ?? "");
      if (!raced) throw err;
      return updateConsumerIfChanged(jsm, placement, raced);
    }
  }
  return updateConsumerIfChanged(jsm, placement, existing);
}

async function updateConsumerIfChanged(
  jsm: JetStreamManager,
  { stream, config, keepLongerAckWait }: ConsumerPlacement,
  existing: ConsumerInfo,
): Promise<{ outcome: ReconcileOutcome; config: ConsumerPlacement["config"] }> {
  const current = existing.config.ack_wait ?? 0;
  const wanted =
    keepLongerAckWait === true && current > (config.ack_wait ?? 0)
      ? { ...config, ack_wait: current }
      : config;
  if (differs(wanted, existing.config)) {
    await jsm.consumers.update(stream, wanted.durable_name ?? "", wanted);
    return { outcome: "updated", config: wanted };
  }
  return { outcome: "unchanged", config: wanted };
}

export async function streamInfo(
  jsm: JetStreamManager,
  name: string,
): Promise<StreamInfo | undefined> {
  try {
    return await jsm.streams.info(name);
  } catch (err) {
    if (isApiError(err, JetStreamApiCodes.StreamNotFound)) return undefined;
    throw err;
  }
}

export async function consumerInfo(
  jsm: JetStreamManager,
  stream: string,
  name: string,
): Promise<ConsumerInfo | undefined> {
  try {
    return await jsm.consumers.info(stream, name);
  } catch (err) {
    if (
      isApiError(err, JetStreamApiCodes.ConsumerNotFound) ||
      isApiError(err, JetStreamApiCodes.StreamNotFound)
    ) {
      return undefined;
    }
    throw err;
  }
}

function isApiError(err: unknown, code: number): boolean {
  return err instanceof JetStreamApiError && err.code === code;
}

/** True when any field of `wanted` is not what `actual` has (arrays compared element-wise). */
function differs(wanted: object, actual: object): boolean {
  const current = actual as Record<string, unknown>;
  return Object.entries(wanted).some(
    ([key, value]) => JSON.stringify(value) !== JSON.stringify(current[key]),
  );
}
