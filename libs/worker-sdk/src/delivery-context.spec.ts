import { createLogger } from "@conveyor/service-kit";
import { describe, expect, it } from "vitest";

import { DeliveryContext } from "./delivery-context.ts";
import type { DeliveryContextParts } from "./delivery-context.ts";

function parts(overrides: Partial<DeliveryContextParts> = {}): DeliveryContextParts {
  return {
    jobId: "job-1",
    type: "echo",
    attempt: 2,
    maxAttempts: 5,
    traceId: "4bf92f3577b34da6a3ce929d0e0e4736",
    workerId: "worker-a",
    signal: new AbortController().signal,
    makeLogger: () => createLogger("test", "silent"),
    progress: () => Promise.resolve(),
    heartbeat: () => undefined,
    ...overrides,
  };
}

describe("DeliveryContext", () => {
  it("carries the attempt's facts", () => {
    const signal = new AbortController().signal;
    const ctx = new DeliveryContext(parts({ signal }));
    expect(ctx).toMatchObject({
      jobId: "job-1",
      type: "echo",
      attempt: 2,
      maxAttempts: 5,
      traceId: "4bf92f3577b34da6a3ce929d0e0e4736",
      workerId: "worker-a",
    });
    expect(ctx.signal).toBe(signal);
  });

  it("makes the job's logger on the first use of log only, then keeps it", () => {
    let made = 0;
    const ctx = new DeliveryContext(
      parts({
        makeLogger: () => {
          made++;
          return createLogger("test", "silent");
        },
      }),
    );
    expect(made).toBe(0);
    const first = ctx.log;
    expect(ctx.log).toBe(first);
    expect(made).toBe(1);
  });

  it("lets a handler pass progress and heartbeat on without binding them", async () => {
    const reports: [number, number, string | undefined][] = [];
    let beats = 0;
    const ctx = new DeliveryContext(
      parts({
        progress: (done, total, message) => {
          reports.push([done, total, message]);
          return Promise.resolve();
        },
        heartbeat: () => {
          beats++;
        },
      }),
    );
    const { progress, heartbeat } = ctx;
    await progress(1, 4, "a quarter");
    heartbeat();
    expect(reports).toEqual([[1, 4, "a quarter"]]);
    expect(beats).toBe(1);
  });
});
