import { describe, expect, it } from "vitest";

import { FieldsCarrier } from "./fields-carrier.ts";
import { Tracing } from "./tracing.ts";

describe("FieldsCarrier", () => {
  const tracing = Tracing.create({ serviceName: "fields-carrier-test" });

  it("carries a trace from one record to the next: inject, then extract", async () => {
    await tracing.server("request", {}, (root) => {
      const carrier = new FieldsCarrier();
      tracing.inject(root, carrier);
      expect(carrier.fields.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);

      const continued = tracing.extract(new FieldsCarrier(carrier.fields));
      expect(tracing.traceIdOf(continued)).toBe(tracing.traceIdOf(root));
      return Promise.resolve();
    });
  });

  it("reads and writes only the two trace fields", () => {
    const carrier = new FieldsCarrier({ traceparent: "x" });
    carrier.set("baggage", "ignored");
    expect(carrier.get("baggage")).toBe("");
    expect(carrier.keys()).toEqual(["traceparent"]);
  });
});
