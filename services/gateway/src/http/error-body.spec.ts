import { describe, expect, it } from "vitest";

import { ApiError, submissionNotStored, unavailable } from "../errors.ts";
import { errorResponse } from "./error-body.ts";

describe("errorResponse", () => {
  it("answers an ApiError with its status, code, message and issues", () => {
    const err = new ApiError(400, "invalid_payload", "bad payload", {
      issues: [{ path: "payload.ms", message: "expected number" }],
    });
    expect(errorResponse(err)).toEqual({
      status: 400,
      expected: true,
      body: {
        error: "invalid_payload",
        message: "bad payload",
        issues: [{ path: "payload.ms", message: "expected number" }],
      },
    });
    expect(errorResponse(unavailable("NATS is down")).body).toEqual({
      error: "unavailable",
      message: "NATS is down",
    });
  });

  it("names the job's id in a 503 for a submission JetStream did not confirm", () => {
    const answer = errorResponse(submissionNotStored("job-1", new Error("TIMEOUT")));
    expect(answer).toEqual({
      status: 503,
      expected: true,
      body: {
        error: "unavailable",
        message: "JetStream did not store the job: TIMEOUT",
        id: "job-1",
      },
    });
  });

  it("keeps the status of Koa's exposed client errors", () => {
    const methodNotAllowed = Object.assign(new Error("Method Not Allowed"), {
      status: 405,
      expose: true,
    });
    expect(errorResponse(methodNotAllowed)).toMatchObject({
      status: 405,
      body: { error: "method_not_allowed" },
    });
  });

  it("hides the message of anything unexpected behind a 500", () => {
    const response = errorResponse(new TypeError("secret internals"));
    expect(response).toEqual({
      status: 500,
      expected: false,
      body: { error: "internal", message: "internal error" },
    });
    expect(errorResponse({ status: 400 }).status).toBe(500);
  });
});
