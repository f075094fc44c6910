import { setTimeout as sleep } from "node:timers/promises";

import { describe, expect, it } from "vitest";

import { abortableDelay } from "./abortable-delay.ts";

/** Whether `promise` settles within `ms`. */
async function settlesWithin(promise: Promise<void>, ms: number): Promise<boolean> {
  return Promise.race([promise.then(() => true), sleep(ms).then(() => false)]);
}

describe("abortableDelay", () => {
  it("waits the time given, or until aborted", async () => {
    expect(await settlesWithin(abortableDelay(10, new AbortController().signal), 500)).toBe(true);
    const aborted = new AbortController();
    const waiting = abortableDelay(60_000, aborted.signal);
    aborted.abort();
    expect(await settlesWithin(waiting, 500)).toBe(true);
  });

  it("waits for good on Infinity, and a time beyond a timer's range does not fire at once", async () => {
    const forever = new AbortController();
    const endless = abortableDelay(Infinity, forever.signal);
    const long = abortableDelay(2 ** 31, forever.signal);
    expect(await settlesWithin(endless, 100)).toBe(false);
    expect(await settlesWithin(long, 100)).toBe(false);
    forever.abort();
    expect(
      await settlesWithin(
        Promise.all([endless, long]).then(() => undefined),
        500,
      ),
    ).toBe(true);
  });
});
