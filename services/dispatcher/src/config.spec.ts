import { ConfigError, parseEnv } from "@conveyor/service-kit";
import { describe, expect, it } from "vitest";

import { dispatcherEnv } from "./config.ts";

describe("dispatcherEnv", () => {
  it("defaults concurrency and the submission limit", () => {
    const env = parseEnv(dispatcherEnv, {});
    expect(env.DISPATCHER_CONCURRENCY).toBe(512);
    expect(env.DISPATCHER_BULK_CONCURRENCY).toBe(4);
    expect(env.DISPATCHER_MAX_HELD_BYTES).toBe(32 * 1024 * 1024);
    expect(env.MAX_SUBMISSION_BYTES).toBe(256 * 1024);
    expect(env.DEAD_LETTER_SCAN_INTERVAL_MS).toBe(60_000);
    expect(env.DISPATCHER_PULL_EXPIRES_MS).toBe(5000);
  });

  it("accepts 0 to turn the scan for stranded jobs off", () => {
    expect(parseEnv(dispatcherEnv, { DEAD_LETTER_SCAN_INTERVAL_MS: "0" })).toMatchObject({
      DEAD_LETTER_SCAN_INTERVAL_MS: 0,
    });
    expect(() => parseEnv(dispatcherEnv, { DEAD_LETTER_SCAN_INTERVAL_MS: "-1" })).toThrow(
      /DEAD_LETTER_SCAN_INTERVAL_MS/,
    );
  });

  it("refuses a pull shorter than a second, which would keep every mailbox pulling", () => {
    expect(() => parseEnv(dispatcherEnv, { DISPATCHER_PULL_EXPIRES_MS: "100" })).toThrow(
      /DISPATCHER_PULL_EXPIRES_MS/,
    );
  });

  it("names a bad variable", () => {
    expect(() => parseEnv(dispatcherEnv, { DISPATCHER_CONCURRENCY: "0" })).toThrow(ConfigError);
    expect(() => parseEnv(dispatcherEnv, { DISPATCHER_BULK_CONCURRENCY: "0" })).toThrow(
      /DISPATCHER_BULK_CONCURRENCY/,
    );
    expect(() => parseEnv(dispatcherEnv, { MAX_SUBMISSION_BYTES: "lots" })).toThrow(
      /MAX_SUBMISSION_BYTES/,
    );
  });
});
