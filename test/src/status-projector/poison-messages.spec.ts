import { ConsumerName, StreamName, Subject } from "@conveyor/contracts";
import type { JobEvent } from "@conveyor/contracts";
import { findDeadLetter, findJob } from "@conveyor/read-model";
import { describe, expect, it } from "vitest";

import { publishRawHeaders } from "../support/raw-publish.ts";
import { recordingLogger } from "../support/recording-logger.ts";

import { deadLetter, publishLetter } from "./dead-letters.ts";
import { jobHistory, publishEvents } from "./events.ts";
import { startProjector, useProjectorServers, waitUntilDrained } from "./projector-fixture.ts";

/** The text of a succeeded event whose result is nested `depth` arrays deep. */
function deepSucceededEvent(jobId: string, depth: number): string {
  const [, started] = jobHistory(jobId);
  const event = { ...started, kind: "succeeded", result: 0, durationMs: 5 };
  return JSON.stringify(event).replace(
    '"result":0',
    `"result":${"[".repeat(depth)}0${"]".repeat(depth)}`,
  );
}

describe("status projector with messages it cannot store", () => {
  const fx = useProjectorServers("poison");

  it("stores payload keys holding NUL and returns them unchanged, without holding back other jobs", async () => {
    fx.projector = await startProjector(fx.js, fx.db);
    const payload = { "a\u0000b": 1, nested: [{ "\u0000": "x", "%00": "y" }] };
    await publishEvents(fx.js, [...jobHistory("job-nul", { payload }), ...jobHistory("job-after")]);
    await waitUntilDrained(fx.jsm);

    expect(await findJob(fx.db, "job-nul")).toMatchObject({ status: "succeeded", payload });
    expect((await findJob(fx.db, "job-nul"))?.payload).toStrictEqual(payload);
    expect(await findJob(fx.db, "job-after")).toMatchObject({ status: "succeeded" });
  });

  it("stores a dead letter whose payload has a NUL key, without holding back other letters", async () => {
    fx.projector = await startProjector(fx.js, fx.db);
    const payload = { "a\u0000b": { "c.d": 1 } };
    await publishLetter(fx.js, deadLetter("job-nul", { payload }));
    await publishLetter(fx.js, deadLetter("job-after"));
    await waitUntilDrained(fx.jsm, ConsumerName.ProjectorDeadLetters, StreamName.Dlq);

    const doc = await findDeadLetter(fx.db, "job-nul");
    expect(doc?.state === "dead" && doc.workItem?.payload).toStrictEqual(payload);
    expect(await findDeadLetter(fx.db, "job-after")).toMatchObject({ state: "dead" });
  });

  it("projects an event whose headers cannot be read, without holding back other events", async () => {
    fx.projector = await startProjector(fx.js, fx.db);
    const history = jobHistory("job-bad-headers");
    const end = history.pop()!;
    await publishEvents(fx.js, history);
    await waitUntilDrained(fx.jsm);
    // Alone, so that it is the first of its batch, whose headers the batch's span reads. A header
    // name with a space: other clients send it, nats.js throws on reading it.
    await publishRawHeaders(
      `nats://${fx.nc.getServer()}`,
      Subject.event(end.jobId, end.kind),
      ["bad key: x"],
      JSON.stringify(end),
    );
    await publishEvents(fx.js, jobHistory("job-after"));
    await waitUntilDrained(fx.jsm);

    expect(await findJob(fx.db, "job-bad-headers")).toMatchObject({ status: "succeeded" });
    expect(await findJob(fx.db, "job-after")).toMatchObject({ status: "succeeded" });
  });

  it("acknowledges and reports an event nested too deep to validate, and projects the rest", async () => {
    const { logger, warnings } = recordingLogger();
    fx.projector = await startProjector(fx.js, fx.db, {}, logger);
    const [queued, started] = jobHistory("job-deep");
    await publishEvents(fx.js, [queued!, started!]);
    await fx.js.publish(
      Subject.event("job-deep", "succeeded"),
      deepSucceededEvent("job-deep", 3_000),
    );
    await fx.js.publish(
      Subject.event("job-deep", "succeeded"),
      deepSucceededEvent("job-deep", 200),
    );
    await publishEvents(fx.js, jobHistory("job-after"));
    await waitUntilDrained(fx.jsm);

    expect(await findJob(fx.db, "job-deep")).toMatchObject({ status: "running", attempt: 1 });
    expect(await findJob(fx.db, "job-after")).toMatchObject({ status: "succeeded" });
    expect(warnings("invalid event skipped")).toEqual([
      expect.objectContaining({ subject: "events.job-deep.succeeded", reason: "too_deep" }),
      expect.objectContaining({ subject: "events.job-deep.succeeded", reason: "too_deep" }),
    ]);
  });

  it("logs and skips a document the database refuses, and projects the other jobs", async () => {
    const { logger, errors } = recordingLogger();
    fx.projector = await startProjector(fx.js, fx.db, {}, logger);
    // Twenty failed attempts with 900 kB stack traces each: over MongoDB's 16 MB per document.
    const [queued] = jobHistory("job-huge");
    const stack = "x".repeat(900_000);
    const failures: JobEvent[] = Array.from({ length: 20 }, (_, i) => ({
      kind: "failed",
      jobId: "job-huge",
      type: "report.build",
      run: 1,
      attempt: i + 1,
      at: new Date(Date.UTC(2025, 0, 1, 0, 0, i + 1)).toISOString(),
      error: { name: "Error", message: `attempt ${i + 1}`, stack },
      durationMs: 3,
      workerId: "worker-1",
      retryDelayMs: 10,
    }));
    await publishEvents(fx.js, [{ ...queued!, maxAttempts: 30 } as JobEvent, ...failures]);
    await publishEvents(fx.js, jobHistory("job-after"));
    await waitUntilDrained(fx.jsm);

    expect(await findJob(fx.db, "job-after")).toMatchObject({ status: "succeeded" });
    const refused = errors("document could not be stored, its messages are skipped");
    expect(refused.length).toBeGreaterThan(0);
    expect(refused).toContainEqual(expect.objectContaining({ collection: "jobs", id: "job-huge" }));
  });
});
