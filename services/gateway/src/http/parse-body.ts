import { toValidationIssues } from "@conveyor/contracts";
import type { z } from "zod";

import { ApiError, ErrorCode } from "../errors.ts";

/**
 * Validates a command's JSON body with `schema` (a missing body counts as `{}`); throws a 400
 * `invalid_body` naming each bad field.
 */
export function parseBody<S extends z.ZodType>(schema: S, body: unknown): z.output<S> {
  const parsed = schema.safeParse(body ?? {});
  if (parsed.success) return parsed.data;
  const issues = toValidationIssues(parsed.error);
  const names = [...new Set(issues.map((i) => i.path))].join(", ");
  throw new ApiError(400, ErrorCode.InvalidBody, `invalid request body: ${names}`, { issues });
}
