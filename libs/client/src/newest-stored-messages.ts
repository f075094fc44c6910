import { createInbox } from "@nats-io/transport-node";
import type { Msg, MsgHdrs, NatsConnection } from "@nats-io/transport-node";

/** A stored message as a direct get answers it: its subject, when its headers could be read. */
export interface StoredReply {
  subject: string | undefined;
  data: Uint8Array;
}

/** The server's answers that end a batch direct get: 204 end of batch, 404 nothing matched. */
const endOfBatch = new Set([204, 404]);

/**
 * The newest message on each subject matching `filter` in `stream`: a batch direct get
 * (`multi_last`) whose replies are read where nothing can escape into nats.js.
 *
 * nats.js's own `direct.getLastMessagesFor` decodes every reply's headers inside its subscription
 * callback, and it throws on a header name it would not send itself (a space in it), which other
 * clients send as given: thrown there, the error ends the connection's read loop, and the process
 * hears nothing from NATS until the connection is found stale and reconnects. Here a reply whose
 * headers cannot be read comes without its subject; a stored message always has a body, so a
 * reply without one is the server's status.
 *
 * @param timeoutMs how long the whole batch may take before the call rejects
 */
export function newestStoredMessages(
  nc: NatsConnection,
  stream: string,
  filter: string,
  timeoutMs: number,
): Promise<StoredReply[]> {
  return new Promise((resolve, reject) => {
    const replies: StoredReply[] = [];
    const finish = (err?: unknown) => {
      clearTimeout(timer);
      sub.unsubscribe();
      if (err === undefined) resolve(replies);
      else reject(err instanceof Error ? err : new Error("direct get failed", { cause: err }));
    };
    const onReply = (msg: Msg) => {
      if (msg.data.length > 0) {
        replies.push({ subject: headersOf(msg)?.get("Nats-Subject") || undefined, data: msg.data });
        return;
      }
      const status = msg.headers;
      if (status !== undefined && endOfBatch.has(status.code)) finish();
      else {
        const answer = `${String(status?.code)} ${status?.description ?? ""}`;
        finish(new Error(`direct get of ${stream} answered ${answer}`));
      }
    };
    const timer = setTimeout(() => {
      finish(new Error(`direct get of ${stream} did not end within ${String(timeoutMs)} ms`));
    }, timeoutMs);
    const sub = nc.subscribe(createInbox(inboxPrefixOf(nc)), {
      callback: (err, msg) => {
        // Nothing may escape this callback: nats.js would stop reading the connection.
        try {
          if (err) finish(err);
          else onReply(msg);
        } catch (thrown) {
          finish(thrown);
        }
      },
    });
    nc.publish(`$JS.API.DIRECT.GET.${stream}`, JSON.stringify({ multi_last: [filter] }), {
      reply: sub.getSubject(),
    });
  });
}

function headersOf(msg: Msg): MsgHdrs | undefined {
  try {
    return msg.headers;
  } catch {
    return undefined;
  }
}

/** The `inboxPrefix` the connection was opened with (nats.js keeps it untyped on the connection). */
function inboxPrefixOf(nc: NatsConnection): string | undefined {
  const prefix = (nc as { options?: { inboxPrefix?: unknown } }).options?.inboxPrefix;
  return typeof prefix === "string" && prefix !== "" ? prefix : undefined;
}
