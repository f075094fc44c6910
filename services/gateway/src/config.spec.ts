import { ConfigError } from "@conveyor/service-kit";
import { describe, expect, it } from "vitest";

import { loadConfig } from "./config.ts";

describe("loadConfig's GATEWAY_API_TOKENS", () => {
  it("is none when unset or empty: the API is open", () => {
    expect(loadConfig({}).GATEWAY_API_TOKENS).toEqual([]);
    expect(loadConfig({ GATEWAY_API_TOKENS: "" }).GATEWAY_API_TOKENS).toEqual([]);
    expect(loadConfig({ GATEWAY_API_TOKENS: " " }).GATEWAY_API_TOKENS).toEqual([]);
  });

  it("reads tokens separated by commas, spaces around them trimmed", () => {
    const tokens = "token-one-0123456789, token-two-0123456789";
    expect(loadConfig({ GATEWAY_API_TOKENS: tokens }).GATEWAY_API_TOKENS).toEqual([
      "token-one-0123456789",
      "token-two-0123456789",
    ]);
  });

  it("refuses a token that is short or has spaces, naming the variable", () => {
    for (const tokens of [
      "short",
      "token-one-0123456789,tiny",
      "token with spaces inside",
      // Set, yet naming no token: refused rather than leaving the API open.
      ",",
      "token-one-0123456789,",
      'token-"quoted"-0123456789',
    ]) {
      expect(() => loadConfig({ GATEWAY_API_TOKENS: tokens }), tokens).toThrow(ConfigError);
      expect(() => loadConfig({ GATEWAY_API_TOKENS: tokens }), tokens).toThrow(
        /GATEWAY_API_TOKENS/,
      );
    }
  });
});
