import { runAutocannon } from "../load/autocannon.ts";
import type { HttpLoadResult } from "../load/autocannon.ts";
import { runVegeta } from "../load/vegeta.ts";
import { count } from "./workload.ts";
import type { Workload } from "./workload.ts";

/** Options of {@link restSubmit}. */
export interface RestSubmitOptions {
  durationS: number;
  /**
   * Offered requests per second, sent by vegeta at a constant rate (an open loop), whose latency
   * figures are those of that load; absent: autocannon, as fast as accepted over `connections`
   * (a closed loop, which measures throughput).
   */
  ratePerSec?: number;
  /** Keep-alive connections of the closed loop. @default 64 */
  connections?: number;
}

/**
 * Submit throughput and latency over HTTP, from a load generator in a process of its own POSTing a
 * no-op job for a fixed time: autocannon as fast as accepted, or vegeta at an offered rate.
 * Conveyor: the gateway (validation, tracing, publish, JetStream PubAck). BullMQ: a Koa endpoint
 * calling `Queue.add`. The workers run the jobs meanwhile, as they would in production.
 */
export function restSubmit(options: RestSubmitOptions): Workload {
  const rate = options.ratePerSec;
  const connections = options.connections ?? 64;
  return {
    id: rate === undefined ? "rest-submit" : `rest-rate-${count(rate)}`,
    title:
      rate === undefined
        ? `submit over HTTP (autocannon, ${connections} conn, ${options.durationS} s)`
        : `submit over HTTP at ${count(rate)} req/s (vegeta, constant rate, ${options.durationS} s)`,
    description:
      rate === undefined
        ? "POST /v1/jobs as fast as accepted from a separate autocannon process; accepted/s and request latency."
        : `POST /v1/jobs at a constant ${count(rate)} requests/s from a separate vegeta process; request latency at that load.`,
    figures: [
      { key: "rate", label: "accepted", unit: "jobs/s", better: "higher" },
      { key: "p50", label: "request p50", unit: "ms", better: "lower" },
      { key: "p99", label: "request p99", unit: "ms", better: "lower" },
      { key: "failures", label: "failed requests", unit: "count", better: "lower" },
    ],
    async run(system) {
      const target = { url: system.http.url, body: system.http.body };
      const result: HttpLoadResult =
        rate === undefined
          ? await runAutocannon({ ...target, connections, durationS: options.durationS })
          : await runVegeta({ ...target, ratePerSec: rate, durationS: options.durationS });
      return {
        rate: result.acceptedPerSec,
        p50: result.p50Ms,
        p99: result.p99Ms,
        failures: result.failures,
      };
    },
  };
}
