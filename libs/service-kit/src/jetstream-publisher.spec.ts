import { setImmediate as nextTurn } from "node:timers/promises";

import { PermissionViolationError } from "@nats-io/transport-node";
import type { NatsConnection, Status } from "@nats-io/transport-node";
import { describe, expect, it } from "vitest";

import { JetStreamPublisher } from "./jetstream-publisher.ts";

/** A connection that writes nowhere, whose status events the test sends. */
function fakeConnection() {
  const written: string[] = [];
  const waiting: ((event: IteratorResult<Status>) => void)[] = [];
  const queued: Status[] = [];
  const status: AsyncIterable<Status> & { stop(): void } = {
    [Symbol.asyncIterator]: () => ({
      next: () =>
        new Promise<IteratorResult<Status>>((resolve) => {
          const event = queued.shift();
          if (event === undefined) waiting.push(resolve);
          else resolve({ value: event, done: false });
        }),
    }),
    stop: () => {
      for (const resolve of waiting.splice(0)) resolve({ value: undefined, done: true });
    },
  };
  const nc = {
    options: {},
    subscribe: () => ({ closed: new Promise(() => undefined), unsubscribe: () => undefined }),
    status: () => status,
    publish: (subject: string) => {
      written.push(subject);
    },
  } as unknown as NatsConnection;
  const refuse = (subject: string) => {
    const error = new PermissionViolationError(
      `Permissions Violation for Publish to "${subject}"`,
      "publish",
      subject,
    );
    const event = { type: "error", error } as unknown as Status;
    const resolve = waiting.shift();
    if (resolve === undefined) queued.push(event);
    else resolve({ value: event, done: false });
  };
  return { nc, written, refuse };
}

/** Lets the refusal loop's microtasks run, but not the next turn's write. */
async function microtasks(): Promise<void> {
  for (let i = 0; i < 5; i++) await Promise.resolve();
}

describe("JetStreamPublisher's refused publishes", () => {
  it("fails only the oldest written publish to the refused subject, never one not written yet", async () => {
    const { nc, written, refuse } = fakeConnection();
    const publisher = new JetStreamPublisher(nc, { timeoutMs: 60_000 });
    const outcome = (p: Promise<unknown>) =>
      p.then(
        () => "stored",
        (err: unknown) => (err instanceof PermissionViolationError ? "refused" : "other"),
      );
    const first = outcome(publisher.publish("jobs.submit.secret", "1"));
    await nextTurn();
    expect(written).toEqual(["jobs.submit.secret"]);

    const second = outcome(publisher.publish("jobs.submit.secret", "2"));
    const other = outcome(publisher.publish("jobs.submit.echo", "3"));
    // The first message's refusal arrives before the second message is written.
    refuse("jobs.submit.secret");
    await microtasks();
    expect(await Promise.race([first, nextTurn().then(() => "waiting")])).toBe("refused");
    expect(publisher.pending).toBe(2);

    await nextTurn();
    expect(written).toEqual(["jobs.submit.secret", "jobs.submit.secret", "jobs.submit.echo"]);
    refuse("jobs.submit.secret");
    expect(await second).toBe("refused");
    // Another subject's publish is not the refused one.
    expect(publisher.pending).toBe(1);
    void other;
  });
});
