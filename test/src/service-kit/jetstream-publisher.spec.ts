import { JetStreamPublisher, PublisherClosedError } from "@conveyor/service-kit";
import { startNatsServer, uniqueName, waitFor } from "@conveyor/testing";
import type { NatsServerHandle } from "@conveyor/testing";
import { JetStreamApiError, jetstreamManager } from "@nats-io/jetstream";
import type { JetStreamManager } from "@nats-io/jetstream";
import {
  ClosedConnectionError,
  InvalidArgumentError,
  RequestError,
  TimeoutError,
  connect,
  headers,
} from "@nats-io/transport-node";
import type { NatsConnection } from "@nats-io/transport-node";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";

/** A stream of its own capturing `<prefix>.>`. */
async function freshStream(
  jsm: JetStreamManager,
  config: { max_msg_size?: number } = {},
): Promise<{ name: string; subject: (leaf: string) => string }> {
  const name = uniqueName("PUB").replace(/[^A-Za-z0-9_]/g, "_");
  const prefix = name.toLowerCase();
  await jsm.streams.add({ name, subjects: [`${prefix}.>`], ...config });
  return { name, subject: (leaf) => `${prefix}.${leaf}` };
}

describe("JetStreamPublisher against a real nats-server", () => {
  let server: NatsServerHandle;
  let nc: NatsConnection;
  let jsm: JetStreamManager;
  let publisher: JetStreamPublisher;

  beforeAll(async () => {
    server = await startNatsServer();
    nc = await connect({ servers: server.url, noAsyncTraces: true });
    jsm = await jetstreamManager(nc);
    publisher = new JetStreamPublisher(nc);
  });

  afterAll(async () => {
    await publisher.close();
    await nc.close();
    await server[Symbol.asyncDispose]();
  });

  it("resolves with the stream, sequence and duplicate flag once the message is stored", async () => {
    const stream = await freshStream(jsm);
    const h = headers();
    h.set("Conveyor-Job-Id", "job-1");

    const ack = await publisher.publish(stream.subject("a"), '{"n":1}', {
      msgID: "m-1",
      headers: h,
    });

    expect(ack).toEqual({ stream: stream.name, seq: 1, duplicate: false });
    const stored = await jsm.streams.getMessage(stream.name, { seq: 1 });
    expect(stored?.string()).toBe('{"n":1}');
    expect(stored?.header.get("Conveyor-Job-Id")).toBe("job-1");
    expect(stored?.header.get("Nats-Msg-Id")).toBe("m-1");
  });

  it.each([
    ["a JSON null", "null"],
    ["a JSON array", "[]"],
    ["a bare number", "7"],
  ])(
    "rejects a publish answered with %s by something other than JetStream, and goes on working",
    async (_, answer) => {
      const subject = uniqueName("odd.responder");
      const responder = nc.subscribe(subject, {
        callback: (_err, msg) => {
          msg.respond(answer);
        },
      });
      await nc.flush();
      const stream = await freshStream(jsm);

      await expect(publisher.publish(subject, "x")).rejects.toThrow(/invalid ack response/);

      // The connection still reads: a publish to a stream is acknowledged as ever.
      await expect(publisher.publish(stream.subject("after"), "y")).resolves.toMatchObject({
        stream: stream.name,
        seq: 1,
      });
      responder.unsubscribe();
    },
  );

  it("reports a repeated Nats-Msg-Id as a duplicate of the first message's sequence", async () => {
    const stream = await freshStream(jsm);
    await publisher.publish(stream.subject("a"), "first", { msgID: "same" });
    await publisher.publish(stream.subject("b"), "other");

    const again = await publisher.publish(stream.subject("a"), "second", { msgID: "same" });

    expect(again).toEqual({ stream: stream.name, seq: 1, duplicate: true });
    expect((await jsm.streams.info(stream.name)).state.messages).toBe(2);
  });

  it("never builds nor sends a message withdrawn in the turn it was published, and stores the rest", async () => {
    const stream = await freshStream(jsm);
    const built: string[] = [];
    const withdrawable = (name: string) =>
      publisher.publishWithdrawable(() => {
        built.push(name);
        return { subject: stream.subject(name), data: name, options: { msgID: `id-${name}` } };
      });
    const kept = withdrawable("kept");
    const taken = withdrawable("taken");
    const after = publisher.publish(stream.subject("after"), "after");

    expect(taken.withdraw()).toBe(true);
    expect(taken.withdraw()).toBe(true);

    expect(await taken.acked).toBeUndefined();
    const keptAck = await kept.acked;
    // The kept message is built when the turn's publishes are written, so it is stored after them.
    expect(keptAck).toEqual({ stream: stream.name, seq: 2, duplicate: false });
    expect(await after).toEqual({ stream: stream.name, seq: 1, duplicate: false });
    expect(built).toEqual(["kept"]);
    const stored = await jsm.streams.getMessage(stream.name, { seq: 2 });
    expect(stored?.subject).toBe(stream.subject("kept"));
    expect(stored?.header.get("Nats-Msg-Id")).toBe("id-kept");
    expect((await jsm.streams.info(stream.name)).state.messages).toBe(2);
    expect(publisher.pending).toBe(0);
  });

  it("rejects a withdrawable publish whose message cannot be built, and sends the others", async () => {
    const stream = await freshStream(jsm);
    const failing = publisher.publishWithdrawable(() => {
      throw new Error("too large to encode");
    });
    const other = publisher.publish(stream.subject("other"), "other");

    await expect(failing.acked).rejects.toThrow("too large to encode");
    expect((await other).seq).toBe(1);
    expect(publisher.pending).toBe(0);
  });

  it("cannot withdraw a message once it has been sent", async () => {
    const stream = await freshStream(jsm);
    const sent = publisher.publishWithdrawable(() => ({ subject: stream.subject("a"), data: "a" }));
    await new Promise((resolve) => setImmediate(resolve));

    expect(sent.withdraw()).toBe(false);
    expect(await sent.acked).toEqual({ stream: stream.name, seq: 1, duplicate: false });
  });

  it("pipelines many publishes and matches each acknowledgement to its publish", async () => {
    const stream = await freshStream(jsm);
    const count = 2000;
    const acks = await Promise.all(
      Array.from({ length: count }, (_, i) =>
        publisher.publish(stream.subject(`n${i}`), new TextEncoder().encode(String(i))),
      ),
    );

    expect(new Set(acks.map((a) => a.seq)).size).toBe(count);
    for (const [i, ack] of acks.entries()) {
      if (i % 397 !== 0) continue;
      const stored = await jsm.streams.getMessage(stream.name, { seq: ack.seq });
      expect(stored?.subject).toBe(stream.subject(`n${i}`));
    }
    expect(publisher.pending).toBe(0);
  });

  it("sends deferred functions with the turn's publishes, in call order", async () => {
    const own = await connect({ servers: server.url, noAsyncTraces: true });
    try {
      const stream = await freshStream(jsm);
      const failures: unknown[] = [];
      const ownPublisher = new JetStreamPublisher(own, {
        onDeferredError: (e) => failures.push(e),
      });
      const ran: string[] = [];

      const first = ownPublisher.publish(stream.subject("first"), "1");
      ownPublisher.defer(() => {
        ran.push("deferred");
        own.publish(stream.subject("deferred"), "2");
      });
      ownPublisher.defer(() => {
        throw new Error("ack on a closed connection");
      });
      const last = ownPublisher.publish(stream.subject("last"), "3");
      expect(ran).toEqual([]);

      expect((await first).seq).toBe(1);
      expect((await last).seq).toBe(3);
      expect(ran).toEqual(["deferred"]);
      expect((await jsm.streams.getMessage(stream.name, { seq: 2 }))?.subject).toBe(
        stream.subject("deferred"),
      );
      expect(failures).toEqual([new Error("ack on a closed connection")]);
      await ownPublisher.close();
    } finally {
      await own.close();
    }
  });

  it("flush() writes what the turn queued at once, and what is queued after it at the turn's end", async () => {
    const stream = await freshStream(jsm);
    const ran: string[] = [];
    const first = publisher.publish(stream.subject("first"), "1");
    publisher.defer(() => ran.push("before flush"));
    publisher.flush();
    expect(ran).toEqual(["before flush"]);

    publisher.defer(() => ran.push("after flush"));
    const second = publisher.publish(stream.subject("second"), "2");
    expect(ran).toEqual(["before flush"]);
    expect((await first).seq).toBe(1);
    expect((await second).seq).toBe(2);
    expect(ran).toEqual(["before flush", "after flush"]);
  });

  it("rejects with a no-responders RequestError when no stream captures the subject", async () => {
    const failure = publisher.publish(`${uniqueName("nostream")}.x`, "lost");

    const err: unknown = await failure.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RequestError);
    expect((err as RequestError).isNoResponders()).toBe(true);
  });

  it("rejects with JetStream's API error when the stream refuses the message", async () => {
    const stream = await freshStream(jsm, { max_msg_size: 64 });

    const wrongStream = await publisher
      .publish(stream.subject("a"), "x", { expect: { streamName: "NOT_THIS_ONE" } })
      .catch((e: unknown) => e);
    expect(wrongStream).toBeInstanceOf(JetStreamApiError);
    expect((wrongStream as JetStreamApiError).code).toBe(10060);
    expect((wrongStream as JetStreamApiError).status).toBe(400);

    const tooLarge = await publisher
      .publish(stream.subject("b"), "y".repeat(200))
      .catch((e: unknown) => e);
    expect(tooLarge).toBeInstanceOf(JetStreamApiError);
    expect((tooLarge as JetStreamApiError).code).toBe(10054);
    expect((tooLarge as JetStreamApiError).message).toMatch(/message size exceeds/i);
  });

  it("rejects with the client's InvalidArgumentError for a message over max_payload", async () => {
    const stream = await freshStream(jsm);
    const huge = new Uint8Array((nc.info?.max_payload ?? 1024 * 1024) + 1);

    await expect(publisher.publish(stream.subject("a"), huge)).rejects.toBeInstanceOf(
      InvalidArgumentError,
    );
    expect(publisher.pending).toBe(0);
  });

  it("rejects a publish whose message id cannot be a header value, leaving nothing pending", async () => {
    const stream = await freshStream(jsm);
    const refused = publisher.publish(stream.subject("a"), "x", { msgID: "a\nb", timeout: 200 });
    await expect(refused).rejects.toBeInstanceOf(TypeError);
    expect(publisher.pending).toBe(0);
    // Nothing is left to time out later as a rejection no caller holds.
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on("unhandledRejection", onUnhandled);
    try {
      await new Promise((resolve) => setTimeout(resolve, 400));
    } finally {
      process.off("unhandledRejection", onUnhandled);
    }
    expect(unhandled).toEqual([]);
  });

  it("times out a publish nobody acknowledges, and still resolves the others", async () => {
    const silent = `${uniqueName("silent")}.x`;
    const listener = nc.subscribe(silent, { callback: () => undefined });
    const stream = await freshStream(jsm);
    try {
      const started = Date.now();
      const unanswered = publisher.publish(silent, "?", { timeout: 300 }).catch((e: unknown) => e);
      const answered = publisher.publish(stream.subject("a"), "!", { timeout: 300 });

      await expect(answered).resolves.toMatchObject({ stream: stream.name });
      const err = await unanswered;
      expect(err).toBeInstanceOf(TimeoutError);
      expect(Date.now() - started).toBeGreaterThanOrEqual(300);
      expect(publisher.pending).toBe(0);
    } finally {
      listener.unsubscribe();
    }
  });

  it("times a publish out after its timeout even when the wall clock is set back meanwhile", async () => {
    const silent = `${uniqueName("silent")}.x`;
    const listener = nc.subscribe(silent, { callback: () => undefined });
    // Only the wall clock is faked: timers and the monotonic clock run as ever.
    vi.useFakeTimers({ toFake: ["Date"] });
    try {
      const unanswered = publisher.publish(silent, "?", { timeout: 300 }).catch((e: unknown) => e);
      vi.setSystemTime(Date.now() - 3_600_000);
      const outcome = await Promise.race([
        unanswered,
        new Promise((resolve) => {
          setTimeout(() => {
            resolve("still waiting");
          }, 2000);
        }),
      ]);
      expect(outcome).toBeInstanceOf(TimeoutError);
    } finally {
      vi.useRealTimers();
      listener.unsubscribe();
    }
  });

  it.each([
    { during: "nothing", later: ClosedConnectionError },
    // A publish sent before close() may be stored: not "never sent" (PublisherClosedError).
    { during: "close()", later: PublisherClosedError },
  ])(
    "rejects a pending publish with the connection's error when it closes while $during waits",
    async ({ during, later }) => {
      const own = await connect({ servers: server.url, noAsyncTraces: true });
      const silent = `${uniqueName("silent")}.x`;
      const listener = nc.subscribe(silent, { callback: () => undefined });
      await nc.flush();
      try {
        const ownPublisher = new JetStreamPublisher(own);
        const pending = ownPublisher.publish(silent, "?").catch((e: unknown) => e);
        await own.flush();

        const closing = during === "close()" ? ownPublisher.close() : undefined;
        await own.close();
        await closing;

        expect(await pending).toBeInstanceOf(ClosedConnectionError);
        await expect(ownPublisher.publish(silent, "?")).rejects.toBeInstanceOf(later);
      } finally {
        listener.unsubscribe();
      }
    },
  );

  it("close() waits for pending acknowledgements and then refuses new publishes", async () => {
    const own = await connect({ servers: server.url, noAsyncTraces: true });
    try {
      const stream = await freshStream(jsm);
      const ownPublisher = new JetStreamPublisher(own);
      const acks = Array.from({ length: 50 }, (_, i) =>
        ownPublisher.publish(stream.subject(`n${i}`), "x"),
      );

      await ownPublisher.close();

      expect(ownPublisher.pending).toBe(0);
      expect((await Promise.all(acks)).length).toBe(50);
      await expect(ownPublisher.publish(stream.subject("late"), "x")).rejects.toBeInstanceOf(
        PublisherClosedError,
      );
    } finally {
      await own.close();
    }
  });

  it("close() sends the withdrawable publishes queued before it and refuses later ones", async () => {
    const own = await connect({ servers: server.url, noAsyncTraces: true });
    try {
      const stream = await freshStream(jsm);
      const ownPublisher = new JetStreamPublisher(own);
      const queued = ownPublisher.publishWithdrawable(() => ({
        subject: stream.subject("queued"),
        data: "x",
      }));

      await ownPublisher.close();

      expect(await queued.acked).toEqual({ stream: stream.name, seq: 1, duplicate: false });
      const late = ownPublisher.publishWithdrawable(() => ({
        subject: stream.subject("late"),
        data: "x",
      }));
      await expect(late.acked).rejects.toBeInstanceOf(PublisherClosedError);
    } finally {
      await own.close();
    }
  });

  it("stores each message once when closed from a deferred function, and survives a failing error handler", async () => {
    const own = await connect({ servers: server.url, noAsyncTraces: true });
    try {
      const stream = await freshStream(jsm);
      const ownPublisher = new JetStreamPublisher(own, {
        onDeferredError: () => {
          throw new Error("the error handler fails too");
        },
      });
      let closed: Promise<void> | undefined;
      const first = ownPublisher.publish(stream.subject("first"), "1");
      ownPublisher.defer(() => {
        throw new Error("a deferred ack fails");
      });
      ownPublisher.defer(() => {
        closed = ownPublisher.close();
      });
      const last = ownPublisher.publish(stream.subject("last"), "2");

      expect((await first).seq).toBe(1);
      expect((await last).seq).toBe(2);
      await closed;
      expect((await jsm.streams.info(stream.name)).state.messages).toBe(2);
    } finally {
      await own.close();
    }
  });

  it("keeps receiving acknowledgements after nats-server restarts", async () => {
    const own = await connect({
      servers: server.url,
      noAsyncTraces: true,
      maxReconnectAttempts: -1,
      reconnectTimeWait: 100,
    });
    try {
      const stream = await freshStream(jsm);
      const ownPublisher = new JetStreamPublisher(own);
      await ownPublisher.publish(stream.subject("before"), "x");

      await server.restart();

      // Right after a restart the server may drop a first message (js.publish too): retry that.
      const ack = await waitFor(
        () =>
          ownPublisher
            .publish(stream.subject("after"), "y", { msgID: "after-restart", timeout: 1000 })
            .catch(() => undefined),
        { timeoutMs: 20_000 },
      );
      expect(ack).toMatchObject({ stream: stream.name, seq: 2 });
      expect(ownPublisher.pending).toBe(0);
    } finally {
      await own.close();
    }
  });
});
