import { describe, expect, it } from "vitest";

import { duplicateJobId, jobIdOrNone, storedJobId } from "./first-submission.ts";

describe("duplicateJobId", () => {
  it("answers with the first submission's id whenever it could be read", () => {
    expect(duplicateJobId({ id: "first" }, { id: "repeat" })).toBe("first");
    expect(duplicateJobId({ id: "first" }, { id: "repeat", idempotencyKey: "k" })).toBe("first");
    expect(duplicateJobId({ id: undefined }, { id: "repeat" })).toBeUndefined();
  });

  it("falls back to the repeat's own id only when it sent no key", () => {
    expect(duplicateJobId(undefined, { id: "repeat" })).toBe("repeat");
    expect(duplicateJobId(undefined, { id: "repeat", idempotencyKey: "k" })).toBeUndefined();
  });
});

describe("jobIdOrNone", () => {
  it("keeps an id a job can have", () => {
    expect(jobIdOrNone("order-1_A")).toBe("order-1_A");
  });

  it("drops text no job can have, which a raw NATS publish may name", () => {
    for (const named of ["заказ-1", "a/b?c", "line\r\nbreak", "", "x".repeat(65), undefined]) {
      expect(jobIdOrNone(named)).toBeUndefined();
    }
  });
});

describe("storedJobId", () => {
  it("reads the id the dispatcher gave the job: the body's, else a valid header's", () => {
    expect(storedJobId("header-id", '{"id":"body-id","type":"echo"}')).toBe("body-id");
    expect(storedJobId("header-id", '{"type":"echo"}')).toBe("header-id");
    expect(storedJobId(undefined, '{"id":"body-id"}')).toBe("body-id");
    expect(storedJobId("bad id!", '{"type":"echo"}')).toBeUndefined();
  });

  it("names no job when the body's id is one no job can have: the dispatcher refused it", () => {
    expect(storedJobId("header-id", '{"id":"bad id!"}')).toBeUndefined();
    expect(storedJobId("header-id", '{"id":7}')).toBeUndefined();
  });

  it("falls back to the header when the body is not a JSON object", () => {
    expect(storedJobId("header-id", "{not json")).toBe("header-id");
    expect(storedJobId("header-id", "[1]")).toBe("header-id");
  });
});
