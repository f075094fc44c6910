import { bulkMessages } from "./bulk-messages.ts";
import type { BulkMessage } from "./bulk-messages.ts";

/**
 * Sends a bulk message with `send`, which answers one outcome per job. When `refusedForSize` reads
 * from those outcomes that the stream refused the message for its size (over a `max_msg_size`
 * below the server's `max_payload`: nothing of it was stored), each job is sent again in a bulk of
 * its own, so that gathering jobs never refuses one that alone would be stored. The outcomes come
 * in the message's job order.
 */
export async function sendBulkOrJobByJob<Outcome>(
  message: BulkMessage,
  send: (message: BulkMessage) => Promise<Outcome[]>,
  refusedForSize: (outcomes: readonly Outcome[]) => boolean,
): Promise<Outcome[]> {
  const sent = await send(message);
  if (message.jobs.length === 1 || !refusedForSize(sent)) return sent;
  const alone = message.jobs.flatMap((job) => bulkMessages([job], Infinity));
  return (await Promise.all(alone.map(send))).flat();
}
