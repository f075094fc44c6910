import { JetStreamApiError } from "@nats-io/jetstream";
import type { JetStreamManager } from "@nats-io/jetstream";
import { describe, expect, it } from "vitest";

import { ensureTopologyWhenReady, startingUp } from "./ensure-when-ready.ts";
import { TopologyUpdateError } from "./errors.ts";

/** A JetStreamManager whose every API call fails with `error()`, counting the calls. */
function failingJsm(error: () => Error): { jsm: JetStreamManager; calls: () => number } {
  let calls = 0;
  const fail = () => {
    calls++;
    return Promise.reject(error());
  };
  // Callable too, for `jsm.jetstream()`: every member of the API, however reached, fails.
  const api: object = new Proxy(() => undefined, { get: () => fail, apply: () => api });
  const jsm = new Proxy({}, { get: () => api }) as JetStreamManager;
  return { jsm, calls: () => calls };
}

const apiError = (code: number, description: string) =>
  new JetStreamApiError({ code: 503, err_code: code, description });

describe("ensureTopologyWhenReady", () => {
  it("tries again while JetStream is temporarily unavailable, and gives up at its timeout", async () => {
    const unavailable = () => apiError(10008, "JetStream system temporarily unavailable");
    const once = failingJsm(unavailable);
    await expect(ensureTopologyWhenReady(once.jsm, {}, { timeoutMs: 0 })).rejects.toThrow(
      TopologyUpdateError,
    );
    const { jsm, calls } = failingJsm(unavailable);
    const warnings: string[] = [];
    const logger = { warn: (_: unknown, message: string) => warnings.push(message) };
    await expect(
      ensureTopologyWhenReady(jsm, {}, { timeoutMs: 250, pollMs: 100, logger }),
    ).rejects.toThrow(TopologyUpdateError);
    expect(calls()).toBeGreaterThanOrEqual(2 * once.calls());
    expect(warnings).toEqual(["waiting for JetStream to answer"]);
  });

  it("counts a run where some resources met an election and the others a stream not found as starting up", () => {
    const election = apiError(10008, "JetStream system temporarily unavailable");
    const missing = apiError(10059, "stream not found");
    const update = (...causes: Error[]) =>
      new TopologyUpdateError(
        causes.map((c) => c.message),
        causes,
      );
    expect(startingUp(election)).toBe(true);
    expect(startingUp(update(election, missing, election))).toBe(true);
    expect(startingUp(update(missing))).toBe(false);
    expect(startingUp(update(election, new Error("Permissions Violation")))).toBe(false);
  });

  it("throws any other refusal at once", async () => {
    const refusal = () =>
      new Error("Permissions Violation for Publish to $JS.API.STREAM.INFO.JOBS");
    const { jsm, calls } = failingJsm(refusal);
    const once = failingJsm(refusal);
    await expect(ensureTopologyWhenReady(once.jsm, {}, { timeoutMs: 0 })).rejects.toThrow(
      TopologyUpdateError,
    );
    await expect(
      ensureTopologyWhenReady(jsm, {}, { timeoutMs: 5000, pollMs: 100 }),
    ).rejects.toThrow(/Permissions Violation/);
    expect(calls()).toBe(once.calls());
  });
});
