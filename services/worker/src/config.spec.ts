import { ConfigError, parseEnv } from "@conveyor/service-kit";
import { describe, expect, it } from "vitest";

import { workerEnv } from "./config.ts";

describe("workerEnv", () => {
  it("defaults concurrency to 4 and the lease to 30 s", () => {
    expect(parseEnv(workerEnv, {})).toMatchObject({ WORKER_CONCURRENCY: 4, ACK_WAIT_MS: 30_000 });
  });

  it("reads the worker's variables", () => {
    const env = parseEnv(workerEnv, {
      WORKER_CONCURRENCY: "8",
      WORKER_ID: "w-7",
      ACK_WAIT_MS: "5000",
    });
    expect(env).toMatchObject({ WORKER_CONCURRENCY: 8, WORKER_ID: "w-7", ACK_WAIT_MS: 5000 });
  });

  it("refuses what the worker SDK would refuse at start, instead of crashing on it", () => {
    expect(() => parseEnv(workerEnv, { WORKER_CONCURRENCY: "10001" })).toThrow(
      /WORKER_CONCURRENCY/,
    );
    expect(() => parseEnv(workerEnv, { WORKER_ID: "w".repeat(201) })).toThrow(/WORKER_ID/);
    expect(parseEnv(workerEnv, { WORKER_CONCURRENCY: "10000" }).WORKER_CONCURRENCY).toBe(10_000);
  });

  it("names a bad variable", () => {
    expect(() => parseEnv(workerEnv, { WORKER_CONCURRENCY: "0" })).toThrow(ConfigError);
    expect(() => parseEnv(workerEnv, { ACK_WAIT_MS: "fast" })).toThrow(/ACK_WAIT_MS/);
  });
});
