import { JetStreamApiCodes, JetStreamApiError } from "@nats-io/jetstream";
import type { ConsumerInfo, JetStreamManager } from "@nats-io/jetstream";
import { describe, expect, it } from "vitest";

import type { NatsLink } from "../jobs/nats-link.ts";
import { pauseType, resumeType } from "./pause-type.ts";

/** A JetStream manager whose consumers of WORK are `existing`, recording each pause and resume. */
function workConsumers(existing: readonly string[]) {
  const calls: string[] = [];
  const act = (verb: string) => (_stream: string, name: string) => {
    calls.push(`${verb} ${name}`);
    if (!existing.includes(name)) {
      return Promise.reject(
        new JetStreamApiError({
          code: 404,
          err_code: JetStreamApiCodes.ConsumerNotFound,
          description: "consumer not found",
        }),
      );
    }
    return Promise.resolve({ paused: verb === "pause" } as unknown as ConsumerInfo);
  };
  const jsm = {
    consumers: { pause: act("pause"), resume: act("resume") },
  } as unknown as JetStreamManager;
  const deps = { jsm, options: { publishTimeoutMs: 1000 } } as Parameters<typeof pauseType>[0];
  return { deps, calls };
}

const link: Pick<NatsLink, "up"> = { up: true };
const lanes = [9, 8, 7, 6, 5, 4, 3, 2, 1, 0].map((p) =>
  p === 5 ? "work_echo" : `work_echo__p${String(p)}`,
);

describe("pausing and resuming a type", () => {
  it("resumes the default lane first (the one a worker creating lanes copies), then the others highest first", async () => {
    const { deps, calls } = workConsumers(lanes);
    expect(await resumeType(deps, link, "echo")).toEqual({ type: "echo", paused: false });
    const others = lanes.filter((name) => name !== "work_echo");
    expect(calls).toEqual(["work_echo", ...others].map((name) => `resume ${name}`));
  });

  it("pauses every lane, and answers 404 for a type whose consumers no worker created", async () => {
    const { deps, calls } = workConsumers(lanes);
    expect(await pauseType(deps, link, "echo", undefined)).toMatchObject({ paused: true });
    expect(calls.toSorted()).toEqual(lanes.map((name) => `pause ${name}`).toSorted());

    const none = workConsumers([]);
    await expect(resumeType(none.deps, link, "echo")).rejects.toMatchObject({ status: 404 });
  });

  it("pauses and resumes a type of a release before lanes, which has only its default lane", async () => {
    const { deps } = workConsumers(["work_echo"]);
    expect(await pauseType(deps, link, "echo", undefined)).toMatchObject({ paused: true });
    expect(await resumeType(deps, link, "echo")).toMatchObject({ paused: false });
  });
});
