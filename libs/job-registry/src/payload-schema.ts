import type { JobTypeDescriptor, ValidationIssue } from "@conveyor/contracts";
import { Ajv2020 } from "ajv/dist/2020.js";
import type { ErrorObject, ValidateFunction } from "ajv/dist/2020.js";
import addFormatsModule from "ajv-formats";

import { linearPatternEngine } from "./linear-pattern.ts";

// ajv-formats is CommonJS; its plugin function is the module's `default` export.
const addFormats = addFormatsModule.default;

// `strict: false` accepts the annotation keywords zod's `z.toJSONSchema()` emits; `allErrors`
// reports every bad field of a payload at once.
const ajvOptions = { allErrors: true, strict: false } as const;

// Checks schemas against the JSON Schema 2020-12 meta-schema. It compiles none of them, so it
// keeps none: schemas with `$id`s cannot collide in it, and none can take the meta-schema's place.
const metaSchemaCheck = new Ajv2020(ajvOptions);

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
 * Compiles a schema in an ajv of its own (about a millisecond without the meta-schema), so that no
 * schema sees another's: one shared ajv keeps every schema it compiles and each `$id` in it, and
 * refuses a second with the same `$id`, so one type's nested `$id` made another type unreadable
 * (unknown), and a schema claiming the meta-schema's `$id` broke every later compile.
 *
 * @throws {Error} saying why the schema is not a JSON Schema, or is asynchronous (`$async`): its
 *   validator answers with a promise, which would accept every payload, and reject unhandled.
 */
function compileAlone(
  schema: Record<string, unknown>,
  onBacktracking?: (pattern: string) => void,
): ValidateFunction {
  if (!metaSchemaCheck.validateSchema(schema)) {
    throw new Error(`schema is invalid: ${metaSchemaCheck.errorsText(metaSchemaCheck.errors)}`);
  }
  const ajv = new Ajv2020({
    ...ajvOptions,
    meta: false,
    validateSchema: false,
    code: { regExp: linearPatternEngine(onBacktracking) },
  });
  addFormats(ajv);
  const validate = ajv.compile(schema);
  if ("$async" in validate && validate.$async === true) {
    throw new Error(
      "asynchronous schemas ($async) are not supported: a payload is checked at once",
    );
  }
  return validate;
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

/**
 * The schema's patterns that run on V8's backtracking engine (lookarounds, backreferences; see
 * `linearPatternEngine`): a client's string can make one of them take exponential time.
 */
export function backtrackingPatterns(schema: Record<string, unknown>): string[] {
  const patterns = new Set<string>();
  try {
    compileAlone(schema, (pattern) => patterns.add(pattern));
  } catch {
    // An invalid schema is schemaProblem's to report.
  }
  return [...patterns];
}

function toIssue(error: ErrorObject): ValidationIssue {
  const segments = error.instancePath
    .split("/")
    .slice(1)
    .map((s) => s.replaceAll("~1", "/").replaceAll("~0", "~"));
  const params = error.params as {
    missingProperty?: string;
    additionalProperty?: string;
    unevaluatedProperty?: string;
    propertyName?: string;
  };
  const unknown = params.additionalProperty ?? params.unevaluatedProperty;
  // A record's key refused by its key schema (`propertyNames`) names the key.
  const key = params.propertyName ?? (error as { propertyName?: string }).propertyName;
  const field = params.missingProperty ?? unknown ?? key;
  if (field !== undefined) segments.push(field);
  const message =
    unknown !== undefined
      ? "unknown field"
      : params.missingProperty !== undefined
        ? "required"
        : (error.message ?? "invalid");
  return { path: ["payload", ...segments].join("."), message };
}
