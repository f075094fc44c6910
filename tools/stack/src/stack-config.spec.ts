import { ConfigError } from "@conveyor/service-kit";
import { describe, expect, it } from "vitest";

import { readStackConfig } from "./stack-config.ts";

describe("readStackConfig", () => {
  it("defaults to local servers on the usual ports with data under .data", () => {
    const config = readStackConfig({ NATS_URL: "" }, "/ws");
    expect(config).toMatchObject({
      natsUrl: undefined,
      mongoUrl: undefined,
      natsPort: 4222,
      mongoPort: 27017,
      gatewayPort: 8080,
      mongoDb: "conveyor",
      serviceStopGraceMs: 26_000,
      natsDataDir: "/ws/.data/nats",
      ferretdbDataDir: "/ws/.data/ferretdb",
      natsConfigFile: "/ws/deploy/nats/local.conf",
      retention: { eventsMaxAgeMs: 7 * 24 * 3_600_000, jobsMaxAgeMs: 7 * 24 * 3_600_000 },
      readModelNiceness: 10,
    });
  });

  it("reads the read model's niceness, 0 to 19, naming the variable of a bad one", () => {
    expect(readStackConfig({ READ_MODEL_NICENESS: "0" }, "/ws").readModelNiceness).toBe(0);
    expect(readStackConfig({ READ_MODEL_NICENESS: "19" }, "/ws").readModelNiceness).toBe(19);
    expect(readStackConfig({ READ_MODEL_NICENESS: " " }, "/ws").readModelNiceness).toBe(10);
    for (const bad of ["20", "-1", "low", "2.5", "1e1", "0x0a"]) {
      expect(() => readStackConfig({ READ_MODEL_NICENESS: bad }, "/ws")).toThrow(
        /READ_MODEL_NICENESS/,
      );
    }
  });

  it("reads how long EVENTS and JOBS keep messages, in hours", () => {
    const config = readStackConfig(
      { EVENTS_MAX_AGE_HOURS: "24", JOBS_MAX_AGE_HOURS: "1.5" },
      "/ws",
    );
    expect(config.retention).toEqual({ eventsMaxAgeMs: 86_400_000, jobsMaxAgeMs: 5_400_000 });
  });

  it("refuses a retention under an hour (JOBS' duplicate window), naming the variable", () => {
    expect(() => readStackConfig({ EVENTS_MAX_AGE_HOURS: "0.5" }, "/ws")).toThrow(
      /EVENTS_MAX_AGE_HOURS.*at least 1/,
    );
    expect(() => readStackConfig({ JOBS_MAX_AGE_HOURS: "week" }, "/ws")).toThrow(
      /JOBS_MAX_AGE_HOURS/,
    );
  });

  it("uses external servers when their URLs are set", () => {
    const config = readStackConfig(
      { NATS_URL: "nats://10.0.0.1:4222", MONGO_URL: "mongodb://db/", GATEWAY_PORT: "9000" },
      "/ws",
    );
    expect(config.natsUrl).toBe("nats://10.0.0.1:4222");
    expect(config.mongoUrl).toBe("mongodb://db/");
    expect(config.gatewayPort).toBe(9000);
  });

  it("refuses a grace period whose stop timer (16 s longer) would fire at once", () => {
    const longest = String(2 ** 31 - 1 - 16_000);
    expect(readStackConfig({ SHUTDOWN_GRACE_MS: longest }, "/ws").serviceStopGraceMs).toBe(
      2 ** 31 - 1,
    );
    const tooLong = String(2 ** 31 - 1);
    expect(() => readStackConfig({ SHUTDOWN_GRACE_MS: tooLong }, "/ws")).toThrow(
      /SHUTDOWN_GRACE_MS/,
    );
  });

  it("names the variable of a bad port", () => {
    expect(() => readStackConfig({ NATS_PORT: "70000" }, "/ws")).toThrow(ConfigError);
    expect(() => readStackConfig({ NATS_PORT: "70000" }, "/ws")).toThrow(/NATS_PORT/);
  });

  it("gives the services four metrics ports from METRICS_PORT, and refuses a gateway port among them", () => {
    expect(readStackConfig({}, "/ws").metricsPort).toBe(9464);
    expect(readStackConfig({ METRICS_PORT: "9100" }, "/ws").metricsPort).toBe(9100);
    expect(() => readStackConfig({ GATEWAY_PORT: "9466" }, "/ws")).toThrow(/GATEWAY_PORT/);
    expect(() => readStackConfig({ METRICS_PORT: "65533" }, "/ws")).toThrow(/METRICS_PORT/);
    expect(readStackConfig({ GATEWAY_PORT: "9468" }, "/ws").gatewayPort).toBe(9468);
  });
});
