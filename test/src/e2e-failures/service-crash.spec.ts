import { setTimeout as sleep } from "node:timers/promises";

import { connect } from "@nats-io/transport-node";
import { describe, expect, it } from "vitest";

import { startServiceStack } from "../e2e/service-stack.ts";
import type { ServiceStack } from "../e2e/service-stack.ts";
import { allReach, handlerStartCounts, typesRegistered } from "./jobs-api.ts";
import { startSubmissionLoad } from "./submission-load.ts";

const sleepMs = 50;

/** kill -9, then start the service again with the same environment. */
async function crashAndRestart(stack: ServiceStack, name: "dispatcher" | "status-projector") {
  expect(await stack.signalService(name, "SIGKILL")).toBe("SIGKILL");
  stack.startService(name);
}

describe("dispatcher and status-projector killed under load", () => {
  it("every accepted job runs once and shows succeeded", { timeout: 150_000 }, async () => {
    await using stack = await startServiceStack();
    await typesRegistered(stack, ["sleep"]);

    const load = startSubmissionLoad(stack, "sleep", { ms: sleepMs });
    try {
      await load.acceptedMore(40, 30_000);
      await crashAndRestart(stack, "dispatcher");
      await load.acceptedMore(40, 30_000);
      await crashAndRestart(stack, "status-projector");
      await load.acceptedMore(40, 30_000);
      // Both crashed mid-stream; let the load run on while they are back.
      await sleep(1000);
    } finally {
      await load.stop();
    }
    const { accepted, unavailable, other } = load.tally;
    // Neither crash concerns the gateway: every submission is accepted.
    expect(other, "answers other than 202").toEqual([]);
    expect(unavailable, "submissions refused").toEqual([]);

    // A submission the dispatcher held when killed comes back after the intake's ack wait
    // (30 s); its job id and work item are the same, so it is queued and run once.
    const jobs = await allReach(stack, "sleep", accepted, "succeeded", 90_000);
    expect(jobs.size).toBe(accepted.length);
    const nc = await connect({ servers: stack.natsUrl });
    try {
      const started = await handlerStartCounts(nc);
      for (const id of accepted) {
        expect(jobs.get(id)!.attemptHistory, id).toEqual([
          expect.objectContaining({ run: 1, attempt: 1, outcome: "succeeded" }),
        ]);
        expect(started.get(id), id).toBe(1);
      }
    } finally {
      await nc.close();
    }
    expect(stack.deadServices(), stack.logs()).toEqual([]);
  });
});
