import { ConfigError, parseEnv } from "@conveyor/service-kit";
import { describe, expect, it } from "vitest";

import { projectorEnv } from "./config.ts";

describe("projectorEnv", () => {
  it("refuses a hold the consumers' 30 s ack wait would cut short, naming the variable", () => {
    expect(parseEnv(projectorEnv, { PROJECTOR_NEW_JOB_DEFER_MS: "20000" })).toMatchObject({
      PROJECTOR_NEW_JOB_DEFER_MS: 20_000,
      PROJECTOR_DEFER_MS: 1000,
    });
    for (const variable of ["PROJECTOR_DEFER_MS", "PROJECTOR_NEW_JOB_DEFER_MS"]) {
      expect(() => parseEnv(projectorEnv, { [variable]: "30000" })).toThrow(ConfigError);
      expect(() => parseEnv(projectorEnv, { [variable]: "30000" })).toThrow(variable);
    }
  });
});
