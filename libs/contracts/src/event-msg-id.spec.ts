import type { JobEvent } from "./events.ts";
import { describe, expect, it } from "vitest";

import { eventMsgId } from "./events.ts";

const base = { jobId: "j1", type: "echo", at: "2026-01-01T00:00:00.000Z", run: 2, attempt: 3 };

describe("eventMsgId", () => {
  it("names an event by job, run, attempt and kind, so a re-publish collapses", () => {
    const started: JobEvent = { ...base, kind: "started", workerId: "w" };
    expect(eventMsgId(started)).toBe("j1:2:3:started");
  });

  it("adds the sequence to progress events", () => {
    const progress: JobEvent = { ...base, kind: "progress", done: 1, total: 2, seq: 4 };
    expect(eventMsgId(progress)).toBe("j1:2:3:progress:4");
  });
});
