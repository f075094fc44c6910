import type { z } from "zod";

import type { ValidationIssue } from "./events.ts";

/** Converts zod issues into `{ path, message }` pairs whose path names the field (`payload.ms`). */
export function toValidationIssues(error: z.ZodError, prefix = ""): ValidationIssue[] {
  return error.issues.map((issue) => {
    const keys = issue.code === "unrecognized_keys" ? issue.keys : [];
    const base = [prefix, ...issue.path.map(String)].filter((p) => p !== "").join(".");
    const path = keys.length > 0 ? [base, keys.join(",")].filter((p) => p !== "").join(".") : base;
    return { path: path === "" ? "(root)" : path, message: issue.message };
  });
}
