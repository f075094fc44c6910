import { describe, expect, it } from "vitest";

import { serviceNames } from "@conveyor/stack";

import { startServiceStack } from "../e2e/service-stack.ts";
import { allReach, typesRegistered } from "./jobs-api.ts";
import { outageUnderLoad, startSubmissionLoad } from "./submission-load.ts";

const sleepMs = 100;
/** How long FerretDB stays down while jobs are submitted and run. */
const outageMs = 3000;

describe("FerretDB restarted under load", () => {
  it(
    "submissions go on, and the projector catches up: every accepted job shows succeeded",
    { timeout: 150_000 },
    async () => {
      await using stack = await startServiceStack();
      await typesRegistered(stack, ["sleep"]);
      const pids = serviceNames.map((name) => stack.processes[name].pid);

      const load = startSubmissionLoad(stack, "sleep", { ms: sleepMs });
      const acceptedWhileDown = await outageUnderLoad(load, stack.mongo, outageMs);
      // Intake needs only NATS (docs/rest-api.md): a read model outage refuses no submission.
      const { accepted, unavailable, other } = load.tally;
      expect(other, "answers other than 202").toEqual([]);
      expect(unavailable, "submissions refused with 503").toEqual([]);
      expect(acceptedWhileDown).toBeGreaterThan(0);

      await allReach(stack, "sleep", accepted, "succeeded", 90_000);
      expect(stack.deadServices(), stack.logs()).toEqual([]);
      expect(serviceNames.map((name) => stack.processes[name].pid)).toEqual(pids);
    },
  );
});
