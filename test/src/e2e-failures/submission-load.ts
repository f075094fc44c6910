import { setTimeout as sleep } from "node:timers/promises";

import type { MongoServerHandle, NatsServerHandle } from "@conveyor/testing";

import type { ServiceStack } from "../e2e/service-stack.ts";
import { submit } from "./jobs-api.ts";
import type { SubmitAnswer } from "./jobs-api.ts";

/** What a {@link SubmissionLoad} saw, by answer. */
export interface SubmissionTally {
  /** Ids of jobs answered `202`: stored, so they must all end in a final state. */
  accepted: string[];
  /** Ids of jobs answered `503`: not confirmed; they may or may not have been stored. */
  unavailable: string[];
  /** Any other answer (or a failed request): each one is a finding. */
  other: SubmitAnswer[];
}

/** REST submissions running in the background until stopped. */
export interface SubmissionLoad {
  readonly tally: SubmissionTally;
  /** Resolves once `count` more jobs have been accepted than when it was called. */
  acceptedMore(count: number, timeoutMs: number): Promise<void>;
  /** Stops submitting and waits for the requests in flight. */
  stop(): Promise<SubmissionTally>;
}

/** Options of {@link startSubmissionLoad}. */
export interface SubmissionLoadOptions {
  /** Loops submitting at once, each one request at a time. @default 3 */
  submitters?: number;
  /**
   * Pause of each loop after each answer, in milliseconds: keeps the load below what the worker
   * gets through, so the backlog (and the test's wall time) stays small. @default 100
   */
  paceMs?: number;
  /** Accepted jobs after which the loops stop submitting, however long an outage lasts. @default 400 */
  maxAccepted?: number;
}

/** Starts loops that submit `type` jobs with `payload` over REST and tally the answers. */
export function startSubmissionLoad(
  stack: ServiceStack,
  type: string,
  payload: unknown,
  options: SubmissionLoadOptions = {},
): SubmissionLoad {
  const { submitters = 3, paceMs = 100, maxAccepted = 400 } = options;
  const tally: SubmissionTally = { accepted: [], unavailable: [], other: [] };
  let stopped = false;
  const loop = async () => {
    while (!stopped && tally.accepted.length < maxAccepted) {
      const answer = await submit(stack, type, payload);
      if (answer.status === 202) tally.accepted.push(answer.id);
      else if (answer.status === 503) tally.unavailable.push(answer.id);
      else tally.other.push(answer);
      await sleep(paceMs);
    }
  };
  const loops = Promise.all(Array.from({ length: submitters }, loop));
  return {
    tally,
    async acceptedMore(count, timeoutMs) {
      const target = Math.min(tally.accepted.length + count, maxAccepted);
      const deadline = Date.now() + timeoutMs;
      while (tally.accepted.length < target) {
        if (Date.now() > deadline) {
          throw new Error(
            `only ${tally.accepted.length} of ${target} submissions accepted after ${timeoutMs} ms; ` +
              `${tally.unavailable.length} answered 503, others: ${JSON.stringify(tally.other.slice(-5))}`,
          );
        }
        await sleep(50);
      }
    },
    async stop() {
      stopped = true;
      await loops;
      return tally;
    },
  };
}

/**
 * Lets `load` get 40 jobs accepted, stops `server` for `outageMs` and restarts it, waits for 40
 * more accepted jobs (the stack has recovered), then stops the load, also when a step fails.
 * Returns how many jobs were accepted while the server was down.
 */
export async function outageUnderLoad(
  load: SubmissionLoad,
  server: Pick<NatsServerHandle | MongoServerHandle, "stop" | "restart">,
  outageMs: number,
): Promise<number> {
  try {
    await load.acceptedMore(40, 30_000);
    await server.stop();
    const before = load.tally.accepted.length;
    await sleep(outageMs);
    const acceptedWhileDown = load.tally.accepted.length - before;
    await server.restart();
    await load.acceptedMore(40, 60_000);
    return acceptedWhileDown;
  } finally {
    await load.stop();
  }
}
