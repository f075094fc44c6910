import { JobTypeDescriptor, maxJobTimeoutMs, toValidationIssues } from "@conveyor/contracts";
import type { RetryPolicy } from "@conveyor/contracts";

import { InvalidJobTypeError } from "./errors.ts";
import { schemaProblem } from "./payload-schema.ts";

/** Handler timeout of a type that registers none, in milliseconds. */
export const defaultJobTimeoutMs = 60_000;

/** What a worker declares about a job type it handles. */
export interface JobTypeRegistration {
  /** The type name, e.g. `email.send`. */
  type: string;
  description?: string | undefined;
  /** JSON Schema (draft 2020-12) of the payload, e.g. zod's `z.toJSONSchema()`. Any payload when absent. */
  payloadSchema?: object | undefined;
  /** Fields of the retry policy that differ from the defaults (4 attempts, 1 s, x2). */
  retry?: Partial<RetryPolicy> | undefined;
  /** Handler timeout, in milliseconds. @default 60000 */
  timeoutMs?: number | undefined;
  /**
   * The declaration's version (a whole number): raise it with every change of the declaration, so
   * that an older worker starting during a rolling deploy does not put its declaration back.
   * @default 0
   */
  version?: number | undefined;
}

/**
 * Turns a registration into a complete descriptor with defaults filled in, or throws an
 * {@link InvalidJobTypeError} naming the bad fields (including a schema ajv cannot compile).
 */
export function buildDescriptor(input: JobTypeRegistration, now = new Date()): JobTypeDescriptor {
  const parsed = JobTypeDescriptor.safeParse({
    type: input.type,
    description: input.description,
    payloadSchema: input.payloadSchema,
    retry: input.retry ?? {},
    timeoutMs: input.timeoutMs ?? defaultJobTimeoutMs,
    version: input.version,
    registeredAt: now.toISOString(),
  });
  if (!parsed.success) {
    const issues = toValidationIssues(parsed.error);
    const detail = issues.map((i) => `${i.path}: ${i.message}`).join("; ");
    throw new InvalidJobTypeError(`invalid job type registration: ${detail}`, issues);
  }
  const schema = parsed.data.payloadSchema;
  const problem = schema === undefined ? undefined : schemaProblem(schema);
  if (problem !== undefined) {
    throw new InvalidJobTypeError(`invalid payload schema for "${input.type}": ${problem}`, [
      { path: "payloadSchema", message: problem },
    ]);
  }
  return parsed.data;
}

/** True when two descriptors declare the same thing (the registration time aside). */
export function sameDeclaration(a: JobTypeDescriptor, b: JobTypeDescriptor): boolean {
  return stableJson({ ...a, registeredAt: "" }) === stableJson({ ...b, registeredAt: "" });
}

function stableJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === "object" && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v).sort(([x], [y]) => x.localeCompare(y)))
      : v,
  );
}

/**
 * A descriptor as stored in the job-types bucket. One registered before timeouts were bounded to a
 * day (`maxJobTimeoutMs`) is read with a day's: its own would have timed every attempt out at once
 * (Node fires a longer timer immediately), and refusing it would make the type unknown.
 * @throws the schema's error for anything else that is not a descriptor.
 */
export function readStoredDescriptor(json: unknown): JobTypeDescriptor {
  const timeoutMs = (json as { timeoutMs?: unknown } | null | undefined)?.timeoutMs;
  const tooLong = typeof timeoutMs === "number" && timeoutMs > maxJobTimeoutMs;
  return JobTypeDescriptor.parse(
    tooLong ? { ...(json as object), timeoutMs: maxJobTimeoutMs } : json,
  );
}
