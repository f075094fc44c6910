import { getEventListeners } from "node:events";

import { describe, expect, it } from "vitest";

import { pause } from "./pause.ts";

describe("pause", () => {
  it("resolves after the time and leaves no listener on the signal", async () => {
    const stopped = new AbortController();
    for (let i = 0; i < 20; i++) await pause(1, stopped.signal);
    expect(getEventListeners(stopped.signal, "abort")).toHaveLength(0);
  });

  it("resolves at once when the signal aborts", async () => {
    const stopped = new AbortController();
    const started = performance.now();
    const paused = pause(60_000, stopped.signal);
    stopped.abort();
    await paused;
    expect(performance.now() - started).toBeLessThan(1000);
  });
});
