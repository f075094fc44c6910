import { ConfigError } from "./errors.ts";
import { describe, expect, it } from "vitest";

import { checkSubmissionLimit, recordHeadroomBytes } from "./submission-limit.ts";

describe("checkSubmissionLimit", () => {
  const maxPayload = 1_048_576;

  it("accepts a limit that leaves a job's records room under the server's max_payload", () => {
    expect(() => {
      checkSubmissionLimit(262_144, maxPayload);
    }).not.toThrow();
    expect(() => {
      checkSubmissionLimit(maxPayload - recordHeadroomBytes, maxPayload);
    }).not.toThrow();
  });

  it("refuses one whose jobs' dead letters would not fit, naming the variable and both sizes", () => {
    // A job's dead letter is its work item plus the error, reason and source: a job that could
    // never be dead-lettered would stay in WORK for good.
    const error = catchError(() => {
      checkSubmissionLimit(maxPayload - 100, maxPayload);
    });
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).variables).toEqual(["MAX_SUBMISSION_BYTES"]);
    expect((error as ConfigError).message).toContain(String(maxPayload - 100));
    expect((error as ConfigError).message).toContain(String(maxPayload));
  });

  it("checks nothing when the server did not say its max_payload", () => {
    expect(() => {
      checkSubmissionLimit(10_000_000, undefined);
    }).not.toThrow();
  });
});

function catchError(run: () => unknown): unknown {
  try {
    run();
  } catch (err) {
    return err;
  }
  throw new Error("did not throw");
}
