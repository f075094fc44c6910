import { describe, expect, it } from "vitest";

import { parseMaxDeliveriesAdvisory } from "./max-deliveries-advisory.ts";

const encode = (value: unknown) =>
  new TextEncoder().encode(typeof value === "string" ? value : JSON.stringify(value));

describe("parseMaxDeliveriesAdvisory", () => {
  it("reads the server's advisory", () => {
    const body = {
      type: "io.nats.jetstream.advisory.v1.max_deliver",
      id: "oSd4ao3sMREvimvT2SZq1T",
      timestamp: "2026-11-25T02:30:45.670079611Z",
      stream: "WORK",
      consumer: "work_t",
      stream_seq: 7,
      deliveries: 2,
    };
    expect(parseMaxDeliveriesAdvisory(encode(body))).toEqual({
      ok: true,
      advisory: { stream: "WORK", consumer: "work_t", stream_seq: 7, deliveries: 2 },
    });
  });

  it("names the missing or bad fields", () => {
    const parsed = parseMaxDeliveriesAdvisory(encode({ stream: "WORK", stream_seq: 0 }));
    expect(parsed.ok).toBe(false);
    if (parsed.ok) return;
    expect(parsed.issues.map((i) => i.path)).toEqual(["consumer", "stream_seq", "deliveries"]);
    expect(parsed.message).toContain("stream_seq");
  });

  it("refuses a body that is not JSON", () => {
    expect(parseMaxDeliveriesAdvisory(encode("{nope"))).toMatchObject({
      ok: false,
      message: "advisory is not valid JSON",
    });
  });
});
