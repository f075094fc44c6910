import { JetStreamApiError } from "@nats-io/jetstream";
import { InvalidArgumentError, NoRespondersError, TimeoutError } from "@nats-io/transport-node";
import { describe, expect, it } from "vitest";

import { isDeterministicFailure } from "./intake-failure.ts";

describe("isDeterministicFailure", () => {
  it("counts client-side refusals and a stream's size refusal as deterministic", () => {
    expect(
      isDeterministicFailure(InvalidArgumentError.format("payload", "max_payload size exceeded")),
    ).toBe(true);
    const tooLarge = new JetStreamApiError({
      code: 400,
      err_code: 10054,
      description: "message size exceeds maximum allowed",
    });
    expect(isDeterministicFailure(tooLarge)).toBe(true);
  });

  it("counts NATS being away, and anything unknown, as transient", () => {
    expect(isDeterministicFailure(new TimeoutError())).toBe(false);
    expect(isDeterministicFailure(new NoRespondersError("events.x.queued"))).toBe(false);
    const unavailable = new JetStreamApiError({
      code: 503,
      err_code: 10008,
      description: "JetStream system temporarily unavailable",
    });
    expect(isDeterministicFailure(unavailable)).toBe(false);
    expect(isDeterministicFailure(new Error("boom"))).toBe(false);
  });
});
