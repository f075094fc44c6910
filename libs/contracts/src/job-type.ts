import { z } from "zod";

import { JobPriority, laneSuffix } from "./priority.ts";

/**
 * A job type names what a job does, for example `email.send` or `json.analyze`.
 *
 * Dot-separated tokens of lower-case letters, digits and dashes. Underscores are excluded so that
 * replacing dots with underscores (consumer names may not contain dots) can never make two types
 * collide.
 */
export const JobTypeName = z
  .string()
  .min(1)
  .max(100)
  .regex(
    /^[a-z0-9][a-z0-9-]*(\.[a-z0-9][a-z0-9-]*)*$/,
    "job type must be dot-separated tokens of a-z, 0-9 and '-' (for example email.send)",
  );
export type JobTypeName = z.infer<typeof JobTypeName>;

/**
 * The durable consumer on the work stream that serves one job type's jobs of one priority:
 * `work_<type>` for the default priority, `work_<type>__p<N>` for the others.
 */
export function workConsumerName(type: string, priority: number = JobPriority.default): string {
  const suffix = laneSuffix(priority);
  const name = `work_${type.replaceAll(".", "_")}`;
  return suffix === "" ? name : `${name}_${suffix}`;
}
