import { Match, MsgHdrsImpl } from "@nats-io/transport-node";
import type { MsgHdrs } from "@nats-io/transport-node";

/**
 * A header name as nats.js allows it: printable ASCII (33-126) except `:`, or empty, which nats.js
 * reads from the wire and so must be copied back (a dead letter keeps its work message's headers).
 */
const headerName = /^[!-9;-~]*$/;
const lineBreak = /[\r\n]/;

/**
 * Headers of a message this process publishes. nats.js's headers canonicalize the name and search
 * every present key on each `append` and `set` (an array and a regular expression per call), which
 * made header handling a quarter of what the dispatcher allocates per job. Here an exact-match
 * `append` or `set` checks the name and value and writes the entry directly; everything else
 * (reading, encoding for the wire) is nats.js's own.
 */
class OutgoingHeaders extends MsgHdrsImpl {
  override append(k: string, v: string, match: Match = Match.Exact): void {
    if (match !== Match.Exact) {
      super.append(k, v, match);
      return;
    }
    const value = checked(k, v);
    const values = this.headers.get(k);
    if (values === undefined) this.headers.set(k, [value]);
    else values.push(value);
  }

  override set(k: string, v: string, match: Match = Match.Exact): void {
    if (match !== Match.Exact) {
      super.set(k, v, match);
      return;
    }
    this.headers.set(k, [checked(k, v)]);
  }
}

/** The value as nats.js stores it (trimmed); throws on a name or value nats.js refuses. */
function checked(name: string, value: string): string {
  if (!headerName.test(name))
    throw new TypeError(`invalid NATS header name: ${JSON.stringify(name)}`);
  if (lineBreak.test(value)) throw new TypeError(`NATS header ${name} must not contain \\r or \\n`);
  return value.trim();
}

/** Empty headers for a message to publish, cheaper to fill than nats.js's `headers()`. */
export function outgoingHeaders(): MsgHdrs {
  return new OutgoingHeaders();
}

/**
 * Headers to publish that carry a received message's own headers, without JetStream's `Nats-*`
 * ones (its id, its expectations): a dead letter keeps its work message's headers this way, so
 * that a replay queues the job as it was.
 */
export function carriedHeaders(original: MsgHdrs | undefined): MsgHdrs {
  const headers = outgoingHeaders();
  for (const key of original?.keys() ?? []) {
    if (key.startsWith("Nats-")) continue;
    for (const value of original?.values(key) ?? []) headers.append(key, value);
  }
  return headers;
}
