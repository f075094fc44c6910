import type { WorkItem } from "@conveyor/contracts";
import { createDispatcher } from "@conveyor/dispatcher";
import type { Dispatcher } from "@conveyor/dispatcher";
import { JobTypeRegistry } from "@conveyor/job-registry";
import { createLogger } from "@conveyor/service-kit";
import { uniqueName, waitFor } from "@conveyor/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { useNatsSuite } from "../support/nats-suite.ts";
import { storedMessages } from "./stream-reader.ts";

describe("a dispatcher whose registry has not seen a type registered a moment ago", () => {
  const suite = useNatsSuite("dispatcher-new-type-test");
  let stale: JobTypeRegistry;
  let workerRegistry: JobTypeRegistry;
  let dispatcher: Dispatcher;

  beforeAll(async () => {
    // Its watch stopped: what is registered from now on reaches it only if it asks the bucket.
    stale = await JobTypeRegistry.open(suite.nc);
    await stale.close();
    workerRegistry = await JobTypeRegistry.open(suite.nc);
    dispatcher = await createDispatcher({
      nc: suite.nc,
      js: suite.js,
      registry: stale,
      tracing: suite.tracing,
      logger: createLogger("dispatcher-test", "silent"),
      options: { concurrency: 4, maxSubmissionBytes: 262_144 },
    });
  });

  afterAll(async () => {
    await dispatcher.stop();
    await workerRegistry.close();
  });

  const workFor = async (jobId: string) =>
    (await storedMessages(suite.jsm, "WORK")).filter((m) => m.json<WorkItem>().id === jobId);

  it("queues a submission of it, single or in a bulk, instead of refusing an unknown type", async () => {
    await workerRegistry.register({ type: "report.fresh" });
    const single = uniqueName("job");
    const inBulk = uniqueName("job");
    await suite.js.publish("jobs.submit.report.fresh", JSON.stringify({ id: single }));
    await suite.js.publish("jobs.bulk.report.fresh", JSON.stringify({ jobs: [{ id: inBulk }] }));
    for (const jobId of [single, inBulk]) {
      const [work] = await waitFor(async () => {
        const found = await workFor(jobId);
        return found.length > 0 && found;
      });
      expect(work?.json<WorkItem>()).toMatchObject({ id: jobId, type: "report.fresh" });
    }
  });
});
