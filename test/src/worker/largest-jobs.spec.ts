import { recordHeadroomBytes } from "@conveyor/service-kit";
import { JobFailure } from "@conveyor/worker-sdk";
import { describe, expect, it } from "vitest";

import { uniqueType, useWorkFixture } from "./work-fixture.ts";

describe("a job as large as the submission limit allows", () => {
  const fx = useWorkFixture();

  it("is dead-lettered when its handler fails for good, run once, and leaves WORK", async () => {
    // The largest MAX_SUBMISSION_BYTES the services accept is max_payload minus the headroom a
    // job's records need: its dead letter (the work item, the error and the headers) must fit.
    const maxPayload = fx.nc.info?.max_payload ?? 1024 * 1024;
    const type = uniqueType("largest");
    let runs = 0;
    await fx.worker({
      handlers: {
        [type]: () => {
          runs++;
          throw JobFailure.nonRetryable("account closed");
        },
      },
    });
    // The work item as fx.enqueue builds it, with an empty payload: its fields and id.
    const fields = JSON.stringify({
      id: "0".repeat(36),
      type,
      payload: "",
      priority: 5,
      maxAttempts: 3,
      timeoutMs: 30_000,
      submittedAt: new Date().toISOString(),
      run: 1,
    });
    // The work item the dispatcher makes of the largest submission allowed: its fields (about
    // 300 bytes) on top of the submission's max_payload - recordHeadroomBytes.
    const padding = maxPayload - recordHeadroomBytes + 200 - fields.length;
    const item = await fx.enqueue(type, "x".repeat(padding));

    await fx.eventsUntil(item.id, "dead");
    const letters = await fx.deadLetters(type);
    expect(letters.map(({ letter }) => letter.jobId)).toEqual([item.id]);
    expect(runs).toBe(1);
    expect(await fx.workLeft(type)).toBe(0);
  });
});
