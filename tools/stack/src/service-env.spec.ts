import { describe, expect, it } from "vitest";

import { serviceEnvironment } from "./service-env.ts";
import { serviceNames } from "./service-process.ts";

describe("serviceEnvironment", () => {
  it("gives the REST API's tokens to the gateway only, and everything else to every service", () => {
    const env = { GATEWAY_API_TOKENS: "token-one-0123456789", NATS_URL: "nats://127.0.0.1:4222" };
    for (const name of serviceNames) {
      const own = serviceEnvironment(name, env);
      expect(own["NATS_URL"], name).toBe(env.NATS_URL);
      expect(own["GATEWAY_API_TOKENS"], name).toBe(
        name === "gateway" ? env.GATEWAY_API_TOKENS : undefined,
      );
    }
    // The stack's own environment is left as it was.
    expect(env.GATEWAY_API_TOKENS).toBe("token-one-0123456789");
  });
});
