import { inspect } from "node:util";

import { exceedsDepth, maxResultDepth, maxRetryDelayMs, retryDelayMs } from "@conveyor/contracts";
import type { ErrorInfo, RetryPolicy } from "@conveyor/contracts";
import type { z } from "zod";

import { InvalidResultError, JobCancelledError, JobFailure, WorkerStoppedError } from "./errors.ts";

/** Why a job was dead-lettered. */
export const DeadReason = {
  /** The handler threw `JobFailure.nonRetryable`, or the payload or work item was invalid. */
  NonRetryable: "non_retryable",
  /** The last allowed attempt failed. */
  AttemptsExhausted: "attempts_exhausted",
  /** Delivered more often than the job's attempts allow: earlier attempts never reported back (crashes). */
  DeliveriesExceeded: "deliveries_exceeded",
} as const;
export type DeadReason = (typeof DeadReason)[keyof typeof DeadReason];

type JsonValue = z.core.util.JSONType;

/** How an attempt ended, before any decision: the handler's result or what it threw. */
export type Settled = { ok: true; result: unknown } | { ok: false; error: unknown };

/** The closed set of things a worker does with a delivery. */
export type Outcome =
  | { kind: "succeeded"; result: JsonValue }
  /**
   * `uncounted`: the attempt was cut short by a stopping worker, and is not counted against the
   * job's `maxAttempts`.
   */
  | { kind: "retry"; error: ErrorInfo; delayMs: number; uncounted?: true }
  | { kind: "dead"; error: ErrorInfo; reason: DeadReason }
  /** The job was cancelled: recorded and acknowledged, never retried. */
  | { kind: "cancelled"; reason: string };

/**
 * What was done with a delivery: its outcome's kind, or `unrecorded` when the outcome could not
 * be stored and the job was handed back to run again.
 */
export type AppliedOutcome = Outcome["kind"] | "unrecorded";

/** What the decision depends on besides the settled attempt. */
export interface AttemptFacts {
  /**
   * 1-based attempt number: the delivery count less the deliveries of the run a stopping worker
   * cut short, which are not counted.
   */
  attempt: number;
  maxAttempts: number;
  policy: RetryPolicy;
  /**
   * Whether JetStream delivers the message no more after this delivery (its consumer's
   * `max_deliver`): a job handed back would never run, so no retry can follow. @default false
   */
  finalDelivery?: boolean;
  /** Source of jitter, in [0, 1). @default Math.random */
  random?: () => number;
}

const maxMessageChars = 4000;
const maxStackChars = 8000;

/**
 * Decides what to do with an attempt: a result succeeds; a non-retryable failure, or a retryable
 * one on the last attempt, is dead; otherwise the job is retried after the failure's own delay or
 * the policy's. An attempt cut short by `stop()` goes back at once, also on the last attempt:
 * it is not counted (`uncounted`), as the job did not fail; a rolling deploy does not use up the
 * attempts of the jobs it interrupts. An attempt ended by a cancel is cancelled, whatever the handler threw; one whose handler still
 * returned a result succeeded (the work was done).
 */
export function decideOutcome(settled: Settled, facts: AttemptFacts): Outcome {
  if (settled.ok) {
    const result = toJsonResult(settled.result);
    if (result.ok) return { kind: "succeeded", result: result.value };
    return decideOutcome({ ok: false, error: result.error }, facts);
  }
  const { error } = settled;
  if (isInstance(error, JobCancelledError)) return { kind: "cancelled", reason: error.reason };
  const info = toErrorInfo(error);
  if (isInstance(error, JobFailure) && !error.retryable) {
    return { kind: "dead", error: info, reason: DeadReason.NonRetryable };
  }
  // Handed back, it would never be delivered again, and JetStream's advisory would record it
  // without its error.
  if (facts.finalDelivery === true) {
    return { kind: "dead", error: info, reason: DeadReason.AttemptsExhausted };
  }
  if (isInstance(error, WorkerStoppedError)) {
    return { kind: "retry", error: info, delayMs: 0, uncounted: true };
  }
  if (facts.attempt >= facts.maxAttempts) {
    return { kind: "dead", error: info, reason: DeadReason.AttemptsExhausted };
  }
  const ownDelay = isInstance(error, JobFailure) ? error.delayMs : undefined;
  // A failure's own delay is bounded as a policy's is: beyond that, JetStream's nanoseconds
  // overflow and the event's delay is no safe integer. Infinity means as late as allowed; what is
  // no number at all (from JavaScript: a Retry-After date passed on as is) takes the policy's.
  const delayMs =
    typeof ownDelay === "number" && !Number.isNaN(ownDelay)
      ? Math.min(maxRetryDelayMs, Math.max(0, Math.round(ownDelay)))
      : retryDelayMs(facts.policy, facts.attempt, facts.random);
  return { kind: "retry", error: info, delayMs };
}

/**
 * A delivery beyond the job's attempts means earlier attempts never settled (the worker crashed
 * or lost its lease): the job is dead-lettered without running it again.
 */
export function exceededDeliveries(
  attempt: number,
  maxAttempts: number,
  deliveries = attempt,
): Outcome | undefined {
  if (attempt <= maxAttempts) return undefined;
  const counted = deliveries === attempt ? "" : ` (${String(attempt)} of them counted as attempts)`;
  return {
    kind: "dead",
    reason: DeadReason.DeliveriesExceeded,
    error: {
      name: "DeliveriesExceededError",
      message: `delivered ${String(deliveries)} times${counted} but the job allows ${String(maxAttempts)} attempts; earlier attempts never finished (worker crash or lost lease)`,
    },
  };
}

/** The wire form of an error: name, message and stack (with the causes' stacks appended). */
export function toErrorInfo(error: unknown): ErrorInfo {
  if (!isErrorLike(error)) {
    return { name: "Error", message: truncate(describe(error), maxMessageChars) };
  }
  // Other libraries' errors may carry any value there, whatever Error's type says.
  const info: ErrorInfo = {
    name: truncate(describe(readField(error, "name")), maxMessageChars),
    message: truncate(describe(readField(error, "message")), maxMessageChars),
  };
  const stack = stackWithCauses(error);
  if (stack !== undefined) info.stack = truncate(stack, maxStackChars);
  return info;
}

/** Characters of an error's message kept where the full error does not fit (a dead letter). */
const compactMessageChars = 500;

/**
 * The error cut down to its name and the start of its message, without its stack: what a dead
 * letter carries when its work item, near the submission limit, leaves no room for the whole error.
 */
export function compactErrorInfo(info: ErrorInfo): ErrorInfo {
  const compact: ErrorInfo = { message: truncate(info.message, compactMessageChars) };
  if (info.name !== undefined) compact.name = truncate(info.name, compactMessageChars);
  return compact;
}

function stackWithCauses(error: object): string | undefined {
  const parts: string[] = [];
  let current: unknown = error;
  for (let depth = 0; current !== undefined && depth < 5; depth++) {
    if (isErrorLike(current)) {
      const stack = readField(current, "stack");
      parts.push(
        typeof stack === "string"
          ? stack
          : `${describe(readField(current, "name"))}: ${describe(readField(current, "message"))}`,
      );
      current = readField(current, "cause");
    } else {
      parts.push(describe(current));
      current = undefined;
    }
  }
  return parts.length > 0 ? parts.join("\nCaused by: ") : undefined;
}

/**
 * `value instanceof type`, false where asking throws (a revoked Proxy): a handler may throw
 * anything, and deciding its attempt's outcome must not fail on it.
 */
function isInstance<T>(value: unknown, type: abstract new (...args: never[]) => T): value is T {
  try {
    return value instanceof type;
  } catch {
    return false;
  }
}

/**
 * An Error of this realm, or of another (`vm`, jsdom), which `instanceof Error` does not see; by
 * its tag, as `Error.isError` is not in Node 22.
 */
function isErrorLike(value: unknown): value is object {
  if (isInstance(value, Error)) return true;
  try {
    return Object.prototype.toString.call(value) === "[object Error]";
  } catch {
    return false;
  }
}

/** An error's field, or what went wrong reading it: a getter of a user's error may throw. */
function readField(error: object, field: "name" | "message" | "stack" | "cause"): unknown {
  try {
    return (error as Record<string, unknown>)[field];
  } catch (err) {
    let why: string;
    try {
      why = isErrorLike(err) ? describe(readField(err, "message")) : describe(err);
    } catch {
      why = "unknown";
    }
    return `<${field} could not be read: ${why}>`;
  }
}

/** Text for a thrown value that is not an Error (or an error's field that is not a string). */
function describe(value: unknown): string {
  if (typeof value === "string") return value;
  if (typeof value === "bigint" || typeof value === "symbol") return value.toString();
  try {
    const json = JSON.stringify(value) as string | undefined;
    if (json !== undefined) return json;
  } catch {
    // not serializable (a cycle): inspect shows it, cycles marked
  }
  try {
    return inspect(value, { depth: 2, breakLength: Infinity });
  } catch {
    return Object.prototype.toString.call(value);
  }
}

function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max)}... (${text.length - max} more)`;
}

type JsonConversion = { ok: true; value: JsonValue } | { ok: false; error: InvalidResultError };

/**
 * A handler result as plain JSON: `undefined` becomes `null`; cycles, BigInt and the like are
 * refused, and so are values JSON would store as something else (a `Map`, a `Set`, a typed array), and so is a result nested deeper than the projector can store (`maxResultDepth`). A lone
 * surrogate in a string or key becomes U+FFFD, as storing it would make it, so that the event says
 * what is stored, and two keys that only a lone surrogate told apart become one (the later's
 * value) instead of a document with one key twice, which the read model refuses.
 */
export function toJsonResult(result: unknown): JsonConversion {
  try {
    const text = JSON.stringify(result ?? null, refuseLossy) as string | undefined;
    if (text === undefined) {
      return {
        ok: false,
        error: new InvalidResultError(`result of type ${typeof result} is not JSON`),
      };
    }
    const parsed = JSON.parse(text) as JsonValue;
    // A deeper result would make an event the projector cannot store: the job would stay running.
    if (exceedsDepth(parsed, maxResultDepth)) {
      return {
        ok: false,
        error: new InvalidResultError(
          `result nested deeper than ${maxResultDepth} levels of arrays and objects`,
        ),
      };
    }
    // JSON.stringify writes a lone surrogate, and only that, as a `\udXXX` escape.
    return { ok: true, value: /\\ud[89a-f]/i.test(text) ? wellFormed(parsed) : parsed };
  } catch (err) {
    if (err instanceof InvalidResultError) return { ok: false, error: err };
    return {
      ok: false,
      error: new InvalidResultError("result cannot be serialized as JSON", { cause: err }),
    };
  }
}

/**
 * A `JSON.stringify` replacer that refuses what JSON would store as something else without a
 * word: a `Map` or `Set` as `{}`, a typed array as an object of its indexes. (A `Date`, a `Buffer`
 * and anything with `toJSON` arrive here as their JSON; `NaN` and the infinities become `null`,
 * as JSON has them.)
 */
function refuseLossy(this: unknown, key: string, value: unknown): unknown {
  const at = key === "" ? "" : ` at ${JSON.stringify(key)}`;
  const refuse = (what: string, instead: string) => {
    throw new InvalidResultError(
      `result is not JSON: ${what}${at} would be stored as ${instead}; convert it first`,
    );
  };
  if (value instanceof Map || value instanceof Set) refuse(`a ${value.constructor.name}`, "{}");
  if (ArrayBuffer.isView(value)) {
    refuse(`a ${value.constructor.name}`, "an object of its indexes");
  }
  return value;
}

/** The value with every lone surrogate of its strings and keys written as U+FFFD. */
function wellFormed(value: JsonValue): JsonValue {
  if (typeof value === "string") return value.toWellFormed();
  if (typeof value !== "object" || value === null) return value;
  if (Array.isArray(value)) return value.map(wellFormed);
  const out: Record<string, JsonValue> = {};
  for (const [key, item] of Object.entries(value)) out[key.toWellFormed()] = wellFormed(item);
  return out;
}
