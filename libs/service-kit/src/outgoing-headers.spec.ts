import { Match, headers as natsHeaders } from "@nats-io/transport-node";
import type { MsgHdrs } from "@nats-io/transport-node";
import { describe, expect, it } from "vitest";

import { carriedHeaders, outgoingHeaders } from "./outgoing-headers.ts";

const wire = (h: MsgHdrs) =>
  new TextDecoder().decode((h as unknown as { encode(): Uint8Array }).encode());

/** Our headers after `fill`, once checked to encode as nats.js's do after the same calls. */
function filledLikeNats(fill: (h: MsgHdrs) => void): MsgHdrs {
  const ours = outgoingHeaders();
  const theirs = natsHeaders();
  fill(ours);
  fill(theirs);
  expect(wire(ours)).toBe(wire(theirs));
  return ours;
}

describe("outgoingHeaders", () => {
  it("encodes what nats.js's headers encode for the same appends and sets", () => {
    const ours = filledLikeNats((h) => {
      h.append("Conveyor-Job-Id", "job-1");
      h.append("traceparent", " 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01 ");
      h.append("Conveyor-Job-Id", "job-2");
      h.set("Nats-Msg-Id", "first");
      h.set("Nats-Msg-Id", "job-1:queued");
    });
    expect(ours.values("Conveyor-Job-Id")).toEqual(["job-1", "job-2"]);
    expect(ours.get("traceparent")).toBe("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
    expect(ours.get("Nats-Msg-Id")).toBe("job-1:queued");
  });

  it.each([
    ["a name with a colon", "Bad:Name", "x", /header name/],
    ["a name with a space", "Has Space", "x", /header name/],
    ["a value with CR LF", "Ok", "line\r\nInjected: yes", /\\r or \\n/],
    ["a value with LF", "Ok", "line\nbreak", /\\r or \\n/],
  ])("refuses %s, as nats.js does", (_, name, value, message) => {
    const h = outgoingHeaders();
    expect(() => {
      h.append(name, value);
    }).toThrow(message);
    expect(() => {
      h.set(name, value);
    }).toThrow(message);
    expect(h.keys()).toEqual([]);
    expect(() => {
      natsHeaders().append(name, value);
    }).toThrow();
  });

  it("takes an empty name, as nats.js does when it reads one from the wire", () => {
    const ours = filledLikeNats((h) => {
      h.append("", "no name");
    });
    expect(ours.get("")).toBe("no name");
  });

  it("leaves matching by other than exact names to nats.js", () => {
    const ours = filledLikeNats((h) => {
      h.append("Conveyor-Job-Id", "job-1");
      h.append("conveyor-job-id", "job-2", Match.IgnoreCase);
      h.set("CONVEYOR-JOB-TYPE", "email.send", Match.CanonicalMIME);
    });
    expect(ours.values("Conveyor-Job-Id")).toEqual(["job-1", "job-2"]);
  });
});

describe("carriedHeaders", () => {
  it("carries every header of a received message but JetStream's Nats-* ones", () => {
    const received = natsHeaders();
    received.append("Conveyor-Job-Id", "job-1");
    received.append("X-Custom", "a");
    received.append("X-Custom", "b");
    received.append("", "no name");
    received.set("Nats-Msg-Id", "job-1");
    received.set("Nats-Expected-Stream", "WORK");
    const carried = carriedHeaders(received);
    expect(carried.keys()).toEqual(["Conveyor-Job-Id", "X-Custom", ""]);
    expect(carried.values("X-Custom")).toEqual(["a", "b"]);
    expect(carried.get("")).toBe("no name");
  });

  it("starts empty without a received message", () => {
    expect(carriedHeaders(undefined).keys()).toEqual([]);
  });
});
