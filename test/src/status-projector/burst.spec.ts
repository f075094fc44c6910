import { countJobsByStatusAndType } from "@conveyor/read-model";
import { waitFor } from "@conveyor/testing";
import type { Db } from "mongodb";
import { describe, expect, it } from "vitest";

import { jobHistory, publishEvents } from "./events.ts";
import { startProjector, useProjectorServers } from "./projector-fixture.ts";

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
});
