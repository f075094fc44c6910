import { headers } from "@nats-io/transport-node";
import { describe, expect, it } from "vitest";

import { headersOrNone, readHeaders, storedHeadersOrEmpty } from "./message-headers.ts";

/** A message whose headers getter throws, as nats.js's does on a header name it refuses. */
const unreadable = {
  get headers(): never {
    throw new Error("'header' ' ' is not a valid character in a header name");
  },
};

describe("readHeaders", () => {
  it("returns readable headers, or none", () => {
    const h = headers();
    h.set("Conveyor-Job-Id", "j1");
    expect(readHeaders({ headers: h })).toEqual({ headers: h });
    expect(readHeaders({ headers: undefined })).toEqual({ headers: undefined });
    expect(headersOrNone({ headers: h })?.get("Conveyor-Job-Id")).toBe("j1");
  });

  it("says why headers cannot be read instead of throwing", () => {
    expect(readHeaders(unreadable)).toEqual({
      headers: undefined,
      problem: "'header' ' ' is not a valid character in a header name",
    });
    expect(headersOrNone(unreadable)).toBeUndefined();
  });
});

describe("storedHeadersOrEmpty", () => {
  it("returns a stored message's readable headers, or empty ones when nats.js cannot read them", () => {
    const h = headers();
    h.set("Conveyor-Job-Id", "j1");
    expect(storedHeadersOrEmpty({ header: h }).get("Conveyor-Job-Id")).toBe("j1");
    const odd = {
      get header(): never {
        throw new Error("'header' ' ' is not a valid character in a header name");
      },
    };
    expect([...storedHeadersOrEmpty(odd).keys()]).toEqual([]);
  });
});
