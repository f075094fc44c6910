import type { Logger } from "@conveyor/service-kit";
import type { SpanAttributes } from "@conveyor/telemetry";
import type { JsMsg } from "@nats-io/jetstream";
import type { Db } from "mongodb";

import type { RefusedWrite } from "./refused-write.ts";

/** What storing one batch changed. */
export interface StoreResult {
  /** Documents written per collection (unchanged documents are not written again). */
  written: Record<string, number>;
  /** Documents that could not be projected; logged, while the rest of the batch is stored. */
  refused: RefusedWrite[];
}

/** A batch of messages decoded and ready to be stored. */
export interface PreparedBatch {
  /** The span the batch is stored in (continuing the trace of its first message). */
  span: SpanAttributes;
  /**
   * Stores the batch; safe to repeat (the reducers are idempotent). Throws when MongoDB cannot be
   * reached. Once `signal` aborts, the attempt was abandoned: it must write nothing more.
   */
  store(db: Db, signal: AbortSignal): Promise<StoreResult>;
  /**
   * Messages left out of {@link store}, to be projected with the next batch (and acknowledged
   * then): the events of jobs that are likely to change again at once. Only messages `mayDefer`
   * allowed.
   */
  deferred: readonly JsMsg[];
}

/**
 * How long a message may be held back: `new` for the events of a job the read model does not hold
 * yet (its first `queued` is among them), `known` for the rest.
 */
export type HoldKind = "new" | "known";

/** Whether `msg` may be held back for a later batch, for the hold its kind allows. */
export type MayDefer = (msg: JsMsg, hold: HoldKind) => boolean;

/** How the messages of one mailbox (a durable consumer) become read-model documents. */
export interface Projection {
  /** The stream the mailbox reads. */
  stream: string;
  /** What log lines call the mailbox's messages (`events`, `dead letters`). */
  label: string;
  /**
   * What a message belongs to (the job of an event): {@link prepare} holds back or releases the
   * messages of one key together, so a batch needs only the held messages of the keys it touches.
   * Without it, nothing is held back.
   */
  holdKey?: (msg: JsMsg) => string;
  /**
   * Decodes a batch; invalid messages are logged and left out (they are acknowledged). A message
   * may be deferred to the next batch only when `mayDefer` says so (by default none may).
   */
  prepare(batch: readonly JsMsg[], logger: Logger, mayDefer?: MayDefer): PreparedBatch;
}
