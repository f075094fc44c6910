import { runAutocannon } from "../load/autocannon.ts";
import { count } from "./workload.ts";
import type { Workload } from "./workload.ts";

/** Options of {@link restSubmit}. */
export interface RestSubmitOptions {
  connections: number;
  durationS: number;
  /**
   * Offered requests per second over all connections; absent: as fast as accepted (a closed loop,
   * which measures throughput). With a rate the latency figures are those of that load.
   */
  ratePerSec?: number;
}

/**
 * Submit throughput and latency over HTTP: autocannon, in a process of its own, POSTs a no-op job
 * over keep-alive connections for a fixed time. Conveyor: the gateway (validation, tracing,
 * publish, JetStream PubAck). BullMQ: a Koa endpoint calling `Queue.add`. The workers run the
 * jobs meanwhile, as they would in production.
 */
export function restSubmit(options: RestSubmitOptions): Workload {
  const rate = options.ratePerSec;
  return {
    id: rate === undefined ? "rest-submit" : `rest-rate-${count(rate)}`,
    title:
      rate === undefined
        ? `submit over HTTP (autocannon, ${options.connections} conn, ${options.durationS} s)`
        : `submit over HTTP at ${count(rate)} req/s (autocannon, ${options.connections} conn, ${options.durationS} s)`,
    description:
      rate === undefined
        ? "POST /v1/jobs as fast as accepted from a separate autocannon process; accepted/s and request latency."
        : `POST /v1/jobs at ${count(rate)} requests/s from a separate autocannon process; request latency at that load.`,
    figures: [
      { key: "rate", label: "accepted", unit: "jobs/s", better: "higher" },
      { key: "p50", label: "request p50", unit: "ms", better: "lower" },
      { key: "p99", label: "request p99", unit: "ms", better: "lower" },
      { key: "failures", label: "failed requests", unit: "count", better: "lower" },
    ],
    async run(system) {
      const result = await runAutocannon({
        url: system.http.url,
        body: system.http.body,
        connections: options.connections,
        durationS: options.durationS,
        overallRate: rate,
      });
      return {
        rate: result.acceptedPerSec,
        p50: result.p50Ms,
        p99: result.p99Ms,
        failures: result.failures,
      };
    },
  };
}
