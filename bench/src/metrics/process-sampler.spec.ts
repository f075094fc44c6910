import { describe, expect, it } from "vitest";

import { ProcessSampler } from "./process-sampler.ts";

describe("ProcessSampler", () => {
  it("reports the same usage when stopped twice, without a reading after the first stop", async () => {
    const sampler = ProcessSampler.start(() => [{ name: "bench", pid: process.pid }], 10);
    // Burn some CPU so that a later reading would differ.
    for (let until = Date.now() + 30; Date.now() < until;);
    const first = await sampler.stop();
    for (let until = Date.now() + 30; Date.now() < until;);
    const again = await sampler.stop();
    expect(first).toHaveLength(1);
    expect(again).toBe(first);
  });
});
