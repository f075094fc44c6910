import { describe, expect, it } from "vitest";
import { z } from "zod";

import { commonEnv, envInt, envMs, maxTimerMs, parseEnv } from "./config.ts";
import { ConfigError } from "./errors.ts";

const schema = z.object({ ...commonEnv, WORKER_CONCURRENCY: envInt(1, 4) });

describe("parseEnv", () => {
  it("applies defaults and coerces numbers", () => {
    const config = parseEnv(schema, { WORKER_CONCURRENCY: "8" });
    expect(config.WORKER_CONCURRENCY).toBe(8);
    expect(config.NATS_URL).toBe("nats://127.0.0.1:4222");
    expect(config.NATS_PING_INTERVAL_MS).toBe(10_000);
  });

  it("reads a variable set to blanks as unset, not as 0 or a bad URL", () => {
    const config = parseEnv(schema, {
      SHUTDOWN_GRACE_MS: "",
      WORKER_CONCURRENCY: " ",
      OTEL_EXPORTER_OTLP_ENDPOINT: "",
      NATS_URL: "",
    });
    expect(config.SHUTDOWN_GRACE_MS).toBe(10_000);
    expect(config.WORKER_CONCURRENCY).toBe(4);
    expect(config.OTEL_EXPORTER_OTLP_ENDPOINT).toBeUndefined();
    expect(config.NATS_URL).toBe("nats://127.0.0.1:4222");
  });

  it("names the bad variable", () => {
    expect(() => parseEnv(schema, { WORKER_CONCURRENCY: "zero", LOG_LEVEL: "loud" })).toThrow(
      ConfigError,
    );
    const error = captureError(() => parseEnv(schema, { WORKER_CONCURRENCY: "zero" }));
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).variables).toEqual(["WORKER_CONCURRENCY"]);
    expect((error as ConfigError).message).toContain("WORKER_CONCURRENCY");
  });
});

describe("envInt", () => {
  it("refuses a value above its maximum, naming the variable", () => {
    const bounded = z.object({ HOLD_MS: envInt(0, 1000, 20_000) });
    expect(parseEnv(bounded, { HOLD_MS: "20000" }).HOLD_MS).toBe(20_000);
    const error = captureError(() => parseEnv(bounded, { HOLD_MS: "20001" }));
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).variables).toEqual(["HOLD_MS"]);
  });
});

describe("envMs", () => {
  it("refuses a time longer than a timer can wait, which Node would end at once", () => {
    const timed = z.object({ GRACE_MS: envMs(0, 10_000) });
    expect(parseEnv(timed, { GRACE_MS: String(maxTimerMs) }).GRACE_MS).toBe(maxTimerMs);
    const error = captureError(() => parseEnv(timed, { GRACE_MS: String(2 ** 31) }));
    expect((error as ConfigError).variables).toEqual(["GRACE_MS"]);
    const shutdown = captureError(() => parseEnv(schema, { SHUTDOWN_GRACE_MS: "9999999999" }));
    expect((shutdown as ConfigError).variables).toEqual(["SHUTDOWN_GRACE_MS"]);
  });

  it("reads NATS_URL's servers, ignoring an empty entry, and names one that is not a URL", () => {
    expect(parseEnv(schema, { NATS_URL: "nats://a:4222, nats://b:4222," }).NATS_URL).toBe(
      "nats://a:4222,nats://b:4222",
    );
    expect(parseEnv(schema, { NATS_URL: "127.0.0.1:4222" }).NATS_URL).toBe("127.0.0.1:4222");
    for (const url of ["nats://a:4222,nats://b:99999", ",", "nats://[::1"]) {
      const error = captureError(() => parseEnv(schema, { NATS_URL: url }));
      expect((error as ConfigError).variables).toEqual(["NATS_URL"]);
    }
  });

  it("names a NATS_URL entry that is not a URL by its place, without the password in it", () => {
    // A password holding a `/` (base64, say) makes the entry unreadable as a URL.
    const error = captureError(() => parseEnv(schema, { NATS_URL: "nats://svc:ab/cd@nats:4222" }));
    expect((error as ConfigError).message).toContain("entry 1 of 1 is not a server URL");
    expect((error as ConfigError).message).not.toContain("ab/cd");
    // One holding a comma is split across two entries.
    const split = captureError(() => parseEnv(schema, { NATS_URL: "nats://svc:ab,cd@nats:4222" }));
    expect((split as ConfigError).message).toContain("entry 1 of 2 is not a server URL");
    expect((split as ConfigError).message).not.toMatch(/svc:ab|cd@/);
  });
});

function captureError(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  return undefined;
}
