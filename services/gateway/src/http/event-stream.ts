import { PassThrough } from "node:stream";

import type { Context } from "koa";

/** How often an idle stream sends a comment, so that proxies (nginx: 60 s) keep it open. */
export const eventStreamKeepAliveMs = 15_000;

/** How long a client's `EventSource` waits before reconnecting after the stream ends, in ms. */
const reconnectAfterMs = 2000;

/** How long an ended stream may take to reach a client that reads nothing before it is cut. */
const endedStreamDrainMs = 5000;

/**
 * A response of server-sent events (`text/event-stream`) on a Koa context. `send` writes one
 * event; a client that reads slower than events come gets the newest event of each name once it
 * has read what was written (the events carry whole states, so skipping is safe) rather than a
 * buffer growing without bound.
 */
export class EventStream {
  readonly #body = new PassThrough();
  readonly #keepAlive: NodeJS.Timeout;
  /** Events held while the client is behind, newest per name, written on `drain`. */
  readonly #held = new Map<string, string>();
  readonly #closed = new AbortController();
  #ended = false;

  /** Answers the request with the stream: status 200, the event-stream headers. */
  constructor(ctx: Context, keepAliveMs = eventStreamKeepAliveMs) {
    ctx.status = 200;
    ctx.type = "text/event-stream";
    ctx.set("Cache-Control", "no-cache, no-transform");
    // nginx buffers responses unless told not to, which would hold every event back.
    ctx.set("X-Accel-Buffering", "no");
    // The client reconnects on a new connection, which a load balancer may send to another
    // replica: on this one, kept alive, it could reach a gateway that is stopping.
    ctx.set("Connection", "close");
    ctx.req.socket.setNoDelay(true);
    ctx.body = this.#body;
    this.#body.write(`retry: ${String(reconnectAfterMs)}\n\n`);
    this.#keepAlive = setInterval(() => {
      if (!this.#body.writableNeedDrain) this.#write(": keep-alive\n\n");
    }, keepAliveMs);
    this.#body.on("drain", () => {
      this.#writeHeld();
    });
    // Koa destroys the body when the client goes away, also before the first write.
    this.#body.once("close", () => {
      this.#stop();
      this.#closed.abort();
    });
  }

  /** Aborted once the response is over: ended and sent, or its client gone. */
  get closed(): AbortSignal {
    return this.#closed.signal;
  }

  /** Whether the stream is still open (not ended by `end`, nor by the client leaving). */
  get open(): boolean {
    return !this.#ended;
  }

  /**
   * Writes one event named `name` whose data is `json`, a JSON text without line breaks (as
   * `JSON.stringify` writes one: it escapes those in strings).
   */
  send(name: string, json: string): void {
    if (this.#ended) return;
    const event = `event: ${name}\ndata: ${json}\n\n`;
    if (this.#body.writableNeedDrain) {
      // Held in the order of the newest sends: an event replaced moves behind the others.
      this.#held.delete(name);
      this.#held.set(name, event);
    } else {
      this.#write(event);
    }
  }

  /** Ends the response once what was written, and what was held, is sent. */
  end(): void {
    if (this.#ended) return;
    this.#writeHeld();
    this.#stop();
    this.#body.end();
    // A client that reads nothing would hold the connection and what is buffered for good.
    setTimeout(() => {
      if (!this.#closed.signal.aborted) this.#body.destroy();
    }, endedStreamDrainMs).unref();
  }

  #writeHeld(): void {
    const held = [...this.#held.values()];
    this.#held.clear();
    for (const event of held) this.#write(event);
  }

  #write(text: string): void {
    if (!this.#ended) this.#body.write(text);
  }

  #stop(): void {
    this.#ended = true;
    clearInterval(this.#keepAlive);
  }
}
