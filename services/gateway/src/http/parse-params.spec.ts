import { describe, expect, it } from "vitest";

import { ApiError } from "../errors.ts";
import { ListDeadLettersQuery } from "../schemas/dlq.ts";
import { JobIdParams, ListJobsQuery } from "../schemas/jobs.ts";
import { ListRejectionsQuery } from "../schemas/rejections.ts";
import { parseParams } from "./parse-params.ts";

function refusal(fn: () => unknown): ApiError {
  try {
    fn();
  } catch (err) {
    if (err instanceof ApiError) return err;
    throw err;
  }
  throw new Error("expected an ApiError");
}

describe("parseParams", () => {
  it("fills the default page size and coerces a numeric limit", () => {
    expect(parseParams(ListJobsQuery, {})).toEqual({ limit: 20 });
    expect(
      parseParams(ListJobsQuery, { status: "dead", type: "echo", limit: "5", cursor: "abc" }),
    ).toEqual({
      status: "dead",
      type: "echo",
      limit: 5,
      cursor: "abc",
    });
  });

  it.each([
    [{ status: "done" }, "status"],
    [{ limit: "0" }, "limit"],
    [{ limit: "ten" }, "limit"],
    [{ limit: "1.5" }, "limit"],
    [{ limit: "100000" }, "limit"],
    [{ cursor: "" }, "cursor"],
    [{ type: "Not A Type" }, "type"],
    [{ limit: ["1", "2"] }, "limit"],
  ])("refuses %j with a 400 naming %s", (query, name) => {
    const err = refusal(() => parseParams(ListJobsQuery, query));
    expect(err.status).toBe(400);
    expect(err.code).toBe("invalid_parameter");
    expect(err.issues?.map((i) => i.path)).toEqual([name]);
    expect(err.message).toContain(name);
  });

  it.each([
    ["jobs", ListJobsQuery, { statuss: "dead" }],
    ["dead letters", ListDeadLettersQuery, { Type: "echo" }],
    ["rejections", ListRejectionsQuery, { jobid: "x" }],
  ] as const)(
    "refuses a parameter the %s list does not know (a misspelt filter would list everything)",
    (_list, schema, query) => {
      const err = refusal(() => parseParams(schema, query));
      expect(err.status).toBe(400);
      const [name] = Object.keys(query);
      expect(err.issues?.map((i) => i.path)).toEqual([name]);
    },
  );

  it("refuses a job id that is not one subject token", () => {
    const err = refusal(() => parseParams(JobIdParams, { id: "a.b" }));
    expect(err.issues?.[0]?.path).toBe("id");
    expect(parseParams(JobIdParams, { id: "0198-abc_DEF" })).toEqual({ id: "0198-abc_DEF" });
  });

  it("parses the rejections query the same way", () => {
    expect(parseParams(ListRejectionsQuery, { limit: "3" })).toEqual({ limit: 3 });
    expect(refusal(() => parseParams(ListRejectionsQuery, { limit: "-1" })).issues?.[0]?.path).toBe(
      "limit",
    );
  });
});
