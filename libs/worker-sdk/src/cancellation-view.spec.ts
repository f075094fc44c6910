import { describe, expect, it } from "vitest";

import { CancellationView } from "./cancellation-view.ts";
import type { CancellationChange } from "./cancellation-view.ts";

const record = (run: number, reason = "not needed") =>
  JSON.stringify({ run, reason, requestedAt: "2026-01-01T00:00:00.000Z" });

/** A run of a job submitted long before any cancel these tests record. */
const job = (id: string, run: number, submittedAt = "2025-12-31T00:00:00.000Z") => ({
  id,
  run,
  submittedAt,
});

const put = (key: string, revision: number, value: string, storedAt = 0): CancellationChange => ({
  key,
  revision,
  operation: "PUT",
  value,
  storedAt,
});

describe("CancellationView", () => {
  it("cancels the recorded run and earlier ones, not a later replay", () => {
    const view = new CancellationView();
    view.apply(put("job-1", 1, record(2)));
    expect(view.find(job("job-1", 1))?.reason).toBe("not needed");
    expect(view.find(job("job-1", 2))?.run).toBe(2);
    expect(view.find(job("job-1", 3))).toBeUndefined();
    expect(view.find(job("job-2", 1))).toBeUndefined();
  });

  it("tells a subscribed delivery once its run is cancelled, and stops when unsubscribed", () => {
    const view = new CancellationView();
    const heard: string[] = [];
    const stop = view.subscribe(job("job-1", 1), (r) => heard.push(r.reason));
    view.subscribe(job("job-1", 3), (r) => heard.push(`run 3: ${r.reason}`));
    view.apply(put("job-1", 1, record(1, "first")));
    stop();
    view.apply(put("job-1", 2, record(1, "second")));
    expect(heard).toEqual(["first"]);
  });

  it("never lets an older revision undo a newer one", () => {
    const view = new CancellationView();
    view.apply(put("job-1", 5, record(1)));
    view.apply({ key: "job-1", revision: 4, operation: "DEL", value: "", storedAt: 0 });
    expect(view.find(job("job-1", 1))).toBeDefined();
    view.apply({ key: "job-1", revision: 6, operation: "DEL", value: "", storedAt: 0 });
    expect(view.find(job("job-1", 1))).toBeUndefined();
    expect(view.size).toBe(0);
  });

  it("ignores an unreadable entry, reporting it", () => {
    const unreadable: string[] = [];
    const view = new CancellationView({ onUnreadable: (change) => unreadable.push(change.key) });
    view.apply(put("job-1", 1, "{not json"));
    view.apply(put("job-2", 2, JSON.stringify({ run: 0 })));
    expect(unreadable).toEqual(["job-1", "job-2"]);
    expect(view.find(job("job-1", 1))).toBeUndefined();
  });

  it("forgets cancellations once the bucket's max age has expired them", () => {
    let now = 0;
    const view = new CancellationView({ maxAgeMs: 1000, now: () => now });
    view.apply(put("job-1", 1, record(1), 0));
    now = 600;
    view.apply(put("job-2", 2, record(1), 600));
    expect(view.size).toBe(2);
    now = 1500;
    // The server has dropped job-1's entry without telling any watch.
    expect(view.find(job("job-1", 1))).toBeUndefined();
    view.apply(put("job-3", 3, record(1), 1500));
    expect(view.size).toBe(2);
    expect(view.find(job("job-2", 1))).toBeDefined();
  });

  it("keeps cancellations for good when the bucket has no max age", () => {
    let now = 0;
    const view = new CancellationView({ maxAgeMs: 0, now: () => now });
    view.apply(put("job-1", 1, record(1), 0));
    now = 365 * 86_400_000;
    view.apply(put("job-2", 2, record(1), now));
    expect(view.find(job("job-1", 1))).toBeDefined();
  });

  it("replaces everything on reset, even entries with higher revisions, and tells running deliveries", () => {
    const view = new CancellationView();
    const heard: string[] = [];
    view.subscribe(job("job-2", 1), (r) => heard.push(r.reason));
    view.apply(put("job-1", 40, record(1)));
    // A recreated bucket starts its revisions at 1 again.
    view.reset([put("job-2", 1, record(1, "while away"))]);
    expect(view.find(job("job-1", 1))).toBeUndefined();
    expect(view.find(job("job-2", 1))?.reason).toBe("while away");
    expect(heard).toEqual(["while away"]);
  });

  it("does not cancel a job that uses the id again after the cancel was stored", () => {
    const view = new CancellationView();
    const cancel = JSON.stringify({
      run: 1,
      reason: "not needed",
      requestedAt: "2026-01-01T00:00:00.000Z",
      storedAt: "2026-01-01T00:00:00.010Z",
    });
    view.apply(put("job-1", 1, cancel));
    expect(view.find(job("job-1", 1, "2026-01-01T00:00:00.000Z"))?.reason).toBe("not needed");
    expect(view.find(job("job-1", 1, "2026-01-01T01:00:00.000Z"))).toBeUndefined();

    // Running deliveries are told about a cancel only when it is theirs, on a change and on a reset.
    const heard: string[] = [];
    view.subscribe(job("job-1", 1, "2026-01-01T01:00:00.000Z"), () => heard.push("reused id"));
    view.subscribe(job("job-1", 1, "2026-01-01T00:00:00.000Z"), () => heard.push("cancelled job"));
    view.reset([put("job-1", 1, cancel)]);
    expect(heard).toEqual(["cancelled job"]);
    const later = JSON.stringify({ ...JSON.parse(cancel), storedAt: "2026-01-01T02:00:00.000Z" });
    view.apply(put("job-1", 2, later));
    expect(heard).toEqual(["cancelled job", "reused id", "cancelled job"]);
  });
});
