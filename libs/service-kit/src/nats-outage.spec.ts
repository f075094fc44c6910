import { JetStreamApiError, JetStreamError } from "@nats-io/jetstream";
import {
  ClosedConnectionError,
  InvalidArgumentError,
  NoRespondersError,
  PermissionViolationError,
  RequestError,
  TimeoutError,
} from "@nats-io/transport-node";
import { describe, expect, it } from "vitest";

import { PublisherClosedError } from "./errors.ts";
import { isNatsOutage } from "./nats-outage.ts";

/** A JetStream API answer as the server sends it. */
const apiError = (code: number, err_code: number, description: string) =>
  new JetStreamApiError({ code, err_code, description });

describe("isNatsOutage", () => {
  it("takes NATS being unreachable or refusing the client as an outage", () => {
    expect(isNatsOutage(new TimeoutError())).toBe(true);
    expect(isNatsOutage(new ClosedConnectionError())).toBe(true);
    expect(isNatsOutage(new PublisherClosedError())).toBe(true);
    // No stream captures the subject: what a publish gets while `WORK` is deleted.
    const noStream = new RequestError("no responders", {
      cause: new NoRespondersError("work.echo"),
    });
    expect(isNatsOutage(noStream)).toBe(true);
    expect(isNatsOutage(new RequestError("request failed"))).toBe(true);
    const notEnabled = Object.assign(new Error("jetstream is not enabled"), {
      name: "JetStreamNotEnabled",
    });
    expect(isNatsOutage(notEnabled)).toBe(true);
  });

  it("takes JetStream's server-side answers as an outage and its answers about the request as not", () => {
    expect(isNatsOutage(apiError(503, 10077, "maximum messages exceeded"))).toBe(true);
    expect(isNatsOutage(apiError(503, 10008, "JetStream system temporarily unavailable"))).toBe(
      true,
    );
    expect(isNatsOutage(apiError(500, 10118, "stream is offline"))).toBe(true);
    expect(isNatsOutage(apiError(429, 10167, "too many requests"))).toBe(true);
    expect(isNatsOutage(apiError(409, 10158, "duplicate message id is in process"))).toBe(true);
    // A KV read of a bucket whose stream is gone until provisioning puts it back.
    expect(isNatsOutage(apiError(404, 10059, "stream not found"))).toBe(true);
    expect(isNatsOutage(apiError(400, 10054, "message size exceeds maximum allowed"))).toBe(false);
    expect(isNatsOutage(apiError(400, 10189, "message schedules pattern is invalid"))).toBe(false);
    const wrapped = new RequestError("publish failed", {
      cause: apiError(400, 10054, "message size exceeds maximum allowed"),
    });
    expect(isNatsOutage(wrapped)).toBe(false);
  });

  it("takes a server-side status answer to a direct get as an outage", () => {
    const status = (code: number) =>
      Object.assign(new JetStreamError(`status ${String(code)}`), {
        name: "JetStreamStatusError",
        code,
      });
    expect(isNatsOutage(status(503))).toBe(true);
    expect(isNatsOutage(status(400))).toBe(false);
  });

  it("looks through the causes a failure is wrapped in", () => {
    const lookup = new Error("job type echo could not be looked up", {
      cause: new Error("read failed", { cause: new TimeoutError() }),
    });
    expect(isNatsOutage(lookup)).toBe(true);
  });

  it("does not take the code's own failures, the client refusing a message or a denied subject as an outage", () => {
    expect(isNatsOutage(new TypeError("cannot read properties of undefined"))).toBe(false);
    expect(isNatsOutage(new InvalidArgumentError("payload too large"))).toBe(false);
    // Permissions are per subject: a denial is about the message's subject.
    expect(isNatsOutage(new PermissionViolationError("denied", "publish", "work.echo"))).toBe(
      false,
    );
    expect(isNatsOutage("a string")).toBe(false);
    expect(isNatsOutage(undefined)).toBe(false);
    const cyclic = new Error("outer");
    (cyclic as { cause?: unknown }).cause = cyclic;
    expect(isNatsOutage(cyclic)).toBe(false);
  });
});
