import type { JobTypeDescriptor, ValidationIssue } from "@conveyor/contracts";
import { Ajv2020 } from "ajv/dist/2020.js";
import type { ErrorObject, ValidateFunction } from "ajv/dist/2020.js";
import addFormatsModule from "ajv-formats";

// ajv-formats is CommonJS; its plugin function is the module's `default` export.
const addFormats = addFormatsModule.default;

// `strict: false` accepts the annotation keywords zod's `z.toJSONSchema()` emits; `allErrors`
// reports every bad field of a payload at once.
const ajv = new Ajv2020({ allErrors: true, strict: false });
addFormats(ajv);

// One compiled validator per descriptor object: every new KV revision of a type is a new object,
// so a re-registered schema is compiled again and an unchanged one never is.
const validators = new WeakMap<JobTypeDescriptor, ValidateFunction>();

/**
 * Compiles (once) the descriptor's payload schema. Throws ajv's error when the schema itself is
 * invalid, or undefined when the type accepts any payload.
 */
export function payloadValidator(descriptor: JobTypeDescriptor): ValidateFunction | undefined {
  if (descriptor.payloadSchema === undefined) return undefined;
  let validate = validators.get(descriptor);
  if (!validate) {
    validate = compileAlone(descriptor.payloadSchema);
    validators.set(descriptor, validate);
  }
  return validate;
}

/**
 * Compiles a schema without keeping it in ajv's registry. ajv keeps every schema it compiles, for
 * good, and refuses a second one with the same `$id`: every KV revision of a type, and every
 * reopened watch, reads its schema anew, so the type would turn unreadable (unknown) after the
 * first, and the registry would grow with every read. The compiled function does not need it.
 */
function compileAlone(schema: Record<string, unknown>): ValidateFunction {
  try {
    return ajv.compile(schema);
  } finally {
    ajv.removeSchema(schema);
  }
}

/** Checks a payload against its type's schema; issue paths start at `payload` (`payload.ms`). */
export function payloadIssues(descriptor: JobTypeDescriptor, payload: unknown): ValidationIssue[] {
  const validate = payloadValidator(descriptor);
  if (!validate || validate(payload)) return [];
  const errors = validate.errors ?? [];
  // zod emits both `format` and its regex `pattern` for formats such as email: report the format.
  const formatPaths = new Set(
    errors.filter((e) => e.keyword === "format").map((e) => e.instancePath),
  );
  return errors
    .filter((e) => !(e.keyword === "pattern" && formatPaths.has(e.instancePath)))
    .map(toIssue);
}

/** Explains why a JSON Schema cannot be compiled, or undefined when it compiles. */
export function schemaProblem(schema: Record<string, unknown>): string | undefined {
  try {
    compileAlone(schema);
    return undefined;
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
}

function toIssue(error: ErrorObject): ValidationIssue {
  const segments = error.instancePath
    .split("/")
    .slice(1)
    .map((s) => s.replaceAll("~1", "/").replaceAll("~0", "~"));
  const params = error.params as { missingProperty?: string; additionalProperty?: string };
  const field = params.missingProperty ?? params.additionalProperty;
  if (field !== undefined) segments.push(field);
  const message =
    params.additionalProperty !== undefined
      ? "unknown field"
      : params.missingProperty !== undefined
        ? "required"
        : (error.message ?? "invalid");
  return { path: ["payload", ...segments].join("."), message };
}
