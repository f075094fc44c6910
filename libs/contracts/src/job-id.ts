import { v7 as uuidv7 } from "uuid";
import { z } from "zod";

/**
 * A job id is one NATS subject token (it appears in event subjects), so it is restricted to
 * letters, digits, `-` and `_`. Generated ids are UUIDv7: they sort by creation time, which gives
 * list endpoints a stable, time-ordered cursor.
 */
export const JobId = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z0-9_-]+$/, "id must be 1-64 characters of A-Z, a-z, 0-9, '-' and '_'");
export type JobId = z.infer<typeof JobId>;

export function newJobId(): string {
  return uuidv7();
}
