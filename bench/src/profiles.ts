import { atRest } from "./workloads/at-rest.ts";
import { growth } from "./workloads/growth.ts";
import { ioHandler } from "./workloads/io-handler.ts";
import { restSubmit } from "./workloads/rest-submit.ts";
import { saturated } from "./workloads/saturated.ts";
import { steadyLatency } from "./workloads/steady-latency.ts";
import { submitBatched, submitOneByOne } from "./workloads/client-submit.ts";
import type { Workload } from "./workloads/workload.ts";

/** How big a run is. */
export const Mode = { Quick: "quick", Full: "full" } as const;
export type Mode = (typeof Mode)[keyof typeof Mode];

/** The sizes of one mode. */
export interface Profile {
  mode: Mode;
  /** Repetitions of every workload on every system (figures are their median). */
  repetitions: number;
  /** Handlers per type at once in every worker process, on both systems. */
  workerConcurrency: number;
  /** Jobs per batch when submitting many. */
  batch: number;
  /** Longest wait for one repetition's jobs, in milliseconds. */
  timeoutMs: number;
  /** Longest wait before a repetition for Conveyor's read model to catch up, in milliseconds. */
  catchUpMs: number;
  /** No-op jobs run through each system before the first workload (see `warmUp`). */
  warmUpJobs: number;
  /** No-op jobs POSTed to each system's HTTP front in the warm-up, besides `warmUpJobs`. */
  warmUpHttpRequests: number;
  workloads: Workload[];
}

/** Builds the workloads of a mode; `million` adds a 1M-job backlog to a full run. */
export function profile(mode: Mode, options: { million?: boolean } = {}): Profile {
  const batch = 100;
  if (mode === Mode.Quick) {
    return {
      mode,
      repetitions: 3,
      workerConcurrency: 32,
      batch,
      timeoutMs: 20_000,
      // None: the quick run is bounded to two minutes, and its workloads leave little behind.
      catchUpMs: 0,
      warmUpJobs: 2000,
      warmUpHttpRequests: 500,
      workloads: [
        // Only before the workloads: the quick run stays under two minutes.
        atRest({ when: "first", windowS: 2 }),
        restSubmit({ connections: 16, durationS: 1 }),
        // As many connections as the full run's: with one request in flight per connection, 16
        // cap the rate below the 2,000 offered as soon as the mean response passes 8 ms.
        restSubmit({ durationS: 2, ratePerSec: 2000 }),
        submitOneByOne(100),
        submitBatched(1000, batch),
        saturated(1000, batch, 2000),
        steadyLatency({
          ratePerSec: 2000,
          durationS: 1,
          visibleSamplesPerSec: 20,
          projectedSamplesPerSec: 5,
          pollMs: 5,
          visibleTimeoutMs: 2000,
        }),
        ioHandler(200, 1, 50, batch),
        ioHandler(400, 2, 50, batch),
        ioHandler(800, 4, 50, batch),
        growth(1000, batch, 1000),
      ],
    };
  }
  return {
    mode,
    repetitions: 3,
    workerConcurrency: 32,
    batch,
    timeoutMs: 600_000,
    catchUpMs: 60_000,
    warmUpJobs: 10_000,
    warmUpHttpRequests: 2000,
    workloads: [
      // Long enough for CPU per second: /proc counts CPU time in 10 ms ticks.
      atRest({ when: "first", windowS: 10 }),
      restSubmit({ connections: 64, durationS: 10 }),
      restSubmit({ durationS: 10, ratePerSec: 2000 }),
      submitOneByOne(2000),
      submitBatched(20_000, batch),
      saturated(20_000, batch, 30_000),
      // The target rate, five times it, and a tenth of it: the latency floor, with the cores
      // mostly idle, so that the 2k/s figures can be told apart into fixed delays and queueing
      // for CPU.
      ...[200, 2000, 10_000].map((ratePerSec) =>
        steadyLatency({
          ratePerSec,
          durationS: 10,
          visibleSamplesPerSec: 20,
          projectedSamplesPerSec: 5,
          pollMs: 5,
          visibleTimeoutMs: 30_000,
        }),
      ),
      ioHandler(4000, 1, 50, batch),
      ioHandler(8000, 2, 50, batch),
      ioHandler(16_000, 4, 50, batch),
      growth(10_000, batch, 30_000),
      growth(100_000, batch, 30_000),
      ...(options.million === true ? [growth(1_000_000, 1000, 30_000)] : []),
      atRest({ when: "last", windowS: 10 }),
    ],
  };
}
