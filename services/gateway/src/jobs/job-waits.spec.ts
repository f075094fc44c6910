import { describe, expect, it } from "vitest";

import { JobWaits } from "./job-waits.ts";

describe("JobWaits", () => {
  it("is full while as many waits run as it allows, and not once one has ended", async () => {
    const waits = new JobWaits(1);
    const release = Promise.withResolvers<undefined>();
    const first = waits.hold(() => release.promise);
    expect(waits.full).toBe(true);
    release.resolve(undefined);
    await first;
    expect(waits.full).toBe(false);
  });

  it("is full once the gateway stops, whatever runs", () => {
    const stopping = new AbortController();
    const waits = new JobWaits(10, stopping.signal);
    stopping.abort();
    expect(waits.full).toBe(true);
  });

  it("counts a reserved wait until it is released, once however often released", () => {
    const waits = new JobWaits(2);
    const first = waits.reserve();
    waits.reserve();
    expect(waits.full).toBe(true);
    first();
    first();
    expect(waits.full).toBe(false);
    waits.reserve();
    expect(waits.full).toBe(true);
  });
});
