import { toValidationIssues } from "@conveyor/contracts";
import type { z } from "zod";

import { invalidParameters } from "../errors.ts";

/**
 * Validates query or path parameters with `schema`; throws a 400 naming each bad parameter.
 * A parameter given twice (`?limit=1&limit=2`) arrives as an array and fails as "expected string".
 */
export function parseParams<S extends z.ZodType>(schema: S, params: unknown): z.output<S> {
  const result = schema.safeParse(params);
  if (result.success) return result.data;
  throw invalidParameters(toValidationIssues(result.error));
}
