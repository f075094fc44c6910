import { toValidationIssues } from "@conveyor/contracts";
import type { ValidationIssue } from "@conveyor/contracts";
import { z } from "zod";

/**
 * The server's `io.nats.jetstream.advisory.v1.max_deliver` advisory, published to
 * `$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.<stream>.<consumer>` when a message was delivered
 * `max_deliver` times without being acknowledged. The message itself stays in the stream.
 */
export const MaxDeliveriesAdvisory = z.object({
  stream: z.string().min(1),
  consumer: z.string().min(1),
  /** Stream sequence of the message that ran out of deliveries. */
  stream_seq: z.int().min(1),
  /** Deliveries made, the consumer's `max_deliver`. */
  deliveries: z.int().min(0),
});
export type MaxDeliveriesAdvisory = z.infer<typeof MaxDeliveriesAdvisory>;

export type ParsedAdvisory =
  | { ok: true; advisory: MaxDeliveriesAdvisory }
  | { ok: false; message: string; issues: ValidationIssue[] };

/** Reads an advisory body; a malformed one is described with its fields named. */
export function parseMaxDeliveriesAdvisory(data: Uint8Array): ParsedAdvisory {
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder().decode(data));
  } catch {
    return { ok: false, message: "advisory is not valid JSON", issues: [] };
  }
  const parsed = MaxDeliveriesAdvisory.safeParse(json);
  if (parsed.success) return { ok: true, advisory: parsed.data };
  const issues = toValidationIssues(parsed.error);
  const summary = issues.map((i) => `${i.path}: ${i.message}`).join("; ");
  return { ok: false, message: `invalid max-deliveries advisory: ${summary}`, issues };
}
