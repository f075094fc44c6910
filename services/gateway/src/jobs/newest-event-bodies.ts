import { createInbox } from "@nats-io/transport-node";
import type { Msg, NatsConnection } from "@nats-io/transport-node";

/** The server's answers that end a batch direct get: 204 end of batch, 404 nothing matched. */
const endOfBatch = new Set([204, 404]);

/**
 * The bodies of the newest message on each subject matching `filter` in `stream`: a batch direct
 * get (`multi_last`) whose replies are read without decoding the stored messages' headers.
 *
 * nats.js's own `direct.getLastMessagesFor` reads every reply's headers inside its subscription
 * callback, and it throws on a header name it would not send itself (a space in it), which other
 * clients send as given: thrown there, the error ends the connection's read loop, and the whole
 * gateway hears nothing from NATS (no PubAck, no reply) until the connection is found stale and
 * reconnects, tens of seconds later. A stored event always has a body, so a reply without one is
 * the server's status; whatever cannot be read rejects this call alone.
 *
 * @param timeoutMs how long the whole batch may take before the call rejects
 */
export function newestEventBodies(
  nc: NatsConnection,
  stream: string,
  filter: string,
  timeoutMs: number,
): Promise<Uint8Array[]> {
  return new Promise((resolve, reject) => {
    const bodies: Uint8Array[] = [];
    const finish = (err?: unknown) => {
      clearTimeout(timer);
      sub.unsubscribe();
      if (err === undefined) resolve(bodies);
      else reject(err instanceof Error ? err : new Error("direct get failed", { cause: err }));
    };
    const onReply = (msg: Msg) => {
      if (msg.data.length > 0) {
        bodies.push(msg.data);
        return;
      }
      const status = msg.headers;
      if (status !== undefined && endOfBatch.has(status.code)) finish();
      else
        finish(
          new Error(
            `direct get of ${stream} answered ${String(status?.code)} ${status?.description ?? ""}`,
          ),
        );
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

/** The `inboxPrefix` the connection was opened with (nats.js keeps it untyped on the connection). */
function inboxPrefixOf(nc: NatsConnection): string | undefined {
  const prefix = (nc as { options?: { inboxPrefix?: unknown } }).options?.inboxPrefix;
  return typeof prefix === "string" && prefix !== "" ? prefix : undefined;
}
