import { JetStreamApiError } from "@nats-io/jetstream";
import type { JetStreamManager } from "@nats-io/jetstream";
import { describe, expect, it } from "vitest";

import { ensureTopologyWhenReady } from "./ensure-when-ready.ts";
import { TopologyUpdateError } from "./errors.ts";

/** A JetStreamManager whose every API call fails with `error()`, counting the calls. */
function failingJsm(error: () => Error): { jsm: JetStreamManager; calls: () => number } {
  let calls = 0;
  const fail = () => {
    calls++;
    return Promise.reject(error());
  };
  const api = new Proxy({}, { get: () => fail });
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

  it("throws any other refusal at once", async () => {
    const { jsm, calls } = failingJsm(() => apiError(10039, "user does not have permission"));
    const once = failingJsm(() => apiError(10039, "user does not have permission"));
    await expect(ensureTopologyWhenReady(once.jsm, {}, { timeoutMs: 0 })).rejects.toThrow(
      TopologyUpdateError,
    );
    await expect(
      ensureTopologyWhenReady(jsm, {}, { timeoutMs: 5000, pollMs: 100 }),
    ).rejects.toThrow(/permission/);
    expect(calls()).toBe(once.calls());
  });
});
