import {
  countJobsByStatusAndType,
  deleteExpired,
  jobsCollection,
  serverUsesListIndexes,
} from "@conveyor/read-model";
import { createLogger } from "@conveyor/service-kit";
import { RetentionSweeper } from "@conveyor/status-projector";
import { waitFor } from "@conveyor/testing";
import type { Db } from "mongodb";
import { describe, expect, it } from "vitest";

import { jobHistory, publishEvents } from "./events.ts";
import { startProjector, useProjectorServers, waitUntilDrained } from "./projector-fixture.ts";

/**
 * FerretDB 1.24 (SQLite) never answers an unordered bulk write of 100 or more replacements of
 * existing documents, and then hangs every later command: a burst of jobs must not write them in
 * one command.
 */
const burst = 250;

async function countOf(db: Db, status: string): Promise<number> {
  const counts = await countJobsByStatusAndType(db);
  return counts.filter((c) => c.status === status).reduce((sum, c) => sum + c.count, 0);
}

describe("status projector under a burst of jobs", () => {
  const fx = useProjectorServers("burst");

  it("updates hundreds of existing job documents in one batch", { timeout: 90_000 }, async () => {
    const { js, db } = fx;
    const histories = Array.from({ length: burst }, (_, i) => jobHistory(`burst-${i}`));
    const queued = histories.map((h) => h[0]!);
    const rest = histories.flatMap((h) => h.slice(1));

    // Create the documents, then let one large batch update every one of them.
    fx.projector = await startProjector(js, db, { batchSize: 1000 });
    await publishEvents(js, queued);
    await waitFor(async () => (await countOf(db, "queued")) === burst || undefined, {
      timeoutMs: 30_000,
      message: "queued documents",
    });
    await fx.projector.stop();
    await publishEvents(js, rest);
    fx.projector = await startProjector(js, db, { batchSize: 1000 });

    await waitFor(async () => (await countOf(db, "succeeded")) === burst || undefined, {
      timeoutMs: 60_000,
      message: `all ${burst} jobs succeeded`,
    });
    expect(await countOf(db, "queued")).toBe(0);
  });

  it.each([
    { batchSize: 1000, deletes: "steps of 1,000" },
    { batchSize: 10, deletes: "steps of 10" },
  ])(
    "stores a burst while expired jobs are swept beside it ($deletes), and keeps every job that has not expired",
    { timeout: 90_000 },
    async ({ batchSize }) => {
      const { js, jsm, db } = fx;
      const jobs = 1000;
      const longAgo = Date.UTC(2025, 0, 1);
      const events = Array.from({ length: jobs }, (_, i) => [
        ...jobHistory(`expired-${i}`, { reports: 0 }, longAgo),
        ...jobHistory(`kept-${i}`, { reports: 0 }, Date.now()),
      ]).flat();
      const policy = {
        finishedJobsMs: 86_400_000,
        deadJobsMs: 0,
        openDeadLettersMs: 0,
        rejectionsMs: 0,
      };
      fx.projector = await startProjector(js, db);
      const recheck = await serverUsesListIndexes(db);
      const sweeper = new RetentionSweeper(db, createLogger("status-projector-test", "silent"), {
        policy,
        intervalMs: 10,
        batchSize,
        // As main.ts: by id alone on FerretDB, which finds nothing else by index.
        recheck,
        // Sweep often while the burst lasts, however long a sweep takes on a loaded machine.
        maxBusyShare: 0.5,
      });
      sweeper.start();
      try {
        await publishEvents(js, events);
        await waitUntilDrained(jsm);
      } finally {
        await sweeper.stop();
      }
      // Sweeps ran while the projector stored the burst (each waits 99 times as long as the last
      // took, so not all of the expired jobs need be gone yet); one more sweeps the rest.
      const swept = 2 * jobs - (await jobsCollection(db).countDocuments());
      expect(swept).toBeGreaterThan(0);
      expect(await deleteExpired(db, policy, { batchSize, recheck })).toEqual({
        jobs: jobs - swept,
        rejections: 0,
        deadLetters: 0,
      });
      const kept = await jobsCollection(db)
        .find({}, { projection: { status: 1 } })
        .toArray();
      expect(kept).toHaveLength(jobs);
      expect(
        kept.filter((doc) => doc._id.startsWith("kept-") && doc.status === "succeeded"),
      ).toHaveLength(jobs);
    },
  );
});
