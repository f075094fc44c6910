import { ValidationIssue } from "@conveyor/contracts";
import { maxPageLimit } from "@conveyor/read-model";
import { z } from "zod";

/** Any JSON value (a payload or a result). */
export const JsonValue = z.json();

/** The body of every error response. */
export const ErrorBody = z.object({
  /** Machine-readable code, e.g. `invalid_payload`, `not_found`, `unavailable`. */
  error: z.string(),
  message: z.string(),
  /** The fields at fault, each named by its path (`payload.ms`, `limit`). */
  issues: z.array(ValidationIssue).optional(),
  /**
   * For a submission JetStream did not confirm (`503`): the id the job was given. It may be stored
   * all the same; submit again with this `id`, and a stored first one answers `200` duplicate.
   */
  id: z.string().optional(),
});

/** An ISO-8601 UTC time, or null while unknown. */
export const Timestamp = z.iso.datetime().nullable();

/** Page size of list endpoints. @default 20, at most the read model's page limit (500). */
export const Limit = z.coerce.number().int().min(1).max(maxPageLimit).default(20);

/** An opaque cursor: the `nextCursor` of the previous page. */
export const Cursor = z.string().min(1).max(1024);
