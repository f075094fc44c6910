import { describe, expect, it } from "vitest";

import { serviceNames } from "@conveyor/stack";

import { startServiceStack, waitWhileRunning } from "../e2e/service-stack.ts";
import { allReach, listJobs, typesRegistered } from "./jobs-api.ts";
import { outageUnderLoad, startSubmissionLoad } from "./submission-load.ts";

/** Long enough that some jobs are running whenever the server goes away. */
const sleepMs = 100;
/** How long nats-server stays down while submissions continue. */
const outageMs = 3000;

describe("nats-server restarted under load", () => {
  it(
    "every job answered 202 ends succeeded; the services reconnect by themselves",
    { timeout: 150_000 },
    async () => {
      await using stack = await startServiceStack();
      await typesRegistered(stack, ["sleep"]);
      const pids = serviceNames.map((name) => stack.processes[name].pid);

      const load = startSubmissionLoad(stack, "sleep", { ms: sleepMs });
      // After the restart, the gateway accepts again once reconnected, and the jobs keep coming.
      await outageUnderLoad(load, stack.nats, outageMs);
      const { accepted, unavailable, other } = load.tally;
      expect(other, "answers other than 202 and 503").toEqual([]);
      expect(unavailable.length, "submissions refused while NATS was down").toBeGreaterThan(0);

      // A submission the dispatcher held as the server stopped (or a work message in transit)
      // comes back only after its consumer's ack wait (30 s): the nak could not reach the server.
      await allReach(stack, "sleep", accepted, "succeeded", 90_000);
      // A 503 after a lost PubAck may still have stored its job: whatever was stored succeeds too.
      await waitWhileRunning(
        stack,
        async () =>
          [...(await listJobs(stack, "sleep")).values()].every((job) => job.status === "succeeded"),
        { timeoutMs: 30_000, message: "jobs of unconfirmed submissions did not all succeed" },
      );

      expect(stack.deadServices(), stack.logs()).toEqual([]);
      expect(serviceNames.map((name) => stack.processes[name].pid)).toEqual(pids);
    },
  );
});
