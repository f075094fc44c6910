import { isNiceness } from "@conveyor/testing";

import type { ServiceName } from "./service-process.ts";

/**
 * How much nicer than the rest of the stack the read model runs by default: the status-projector
 * and the FerretDB that `npm start` runs for it. A job's path (gateway, dispatcher, worker,
 * nats-server) never waits for the read model, but on one machine they share the cores, and a
 * burst of work ran at the pace the projection left it. In the bench on two cores: 7,200-7,600
 * jobs/s saturated end to end and 7,200-8,300 for a 10k backlog drain with the read model at
 * the stack's priority, 10,200-11,100 and 8,400-9,200 with it at niceness 10 (12,900-14,000 and
 * 9,800-16,700 with no read model at all). The read model catches up after the burst, no later
 * than before; at 2,000 jobs/s, with cores to spare, its p99 behind a job's end went from 31-38
 * to 35-55 ms, and pickup did not change. `GET /v1/jobs/:id` reads a job the read model does not
 * have yet from its events. Niceness shares the CPU only among processes that compete for it in
 * one place: a service in a container of its own gets its share from the container's CPU weight
 * instead (its Kubernetes CPU request, `cpu_shares` in docker-compose.yml, both set smaller for
 * the read model). A MongoDB of one's own (`MONGO_URL`) keeps its own priority.
 * Measurements in bench/README.md ("What changed").
 */
export const defaultReadModelNiceness = 10;

/** How much nicer than the stack a service runs: the status-projector by `readModelNiceness`. */
export function serviceNiceness(name: ServiceName, readModelNiceness: number): number {
  return name === "status-projector" ? readModelNiceness : 0;
}

/**
 * A niceness written as text (an environment variable, a command-line option): a whole number
 * from 0 to 19 in decimal digits, else undefined.
 */
export function parseNiceness(text: string): number | undefined {
  const digits = text.trim();
  if (!/^\d{1,2}$/.test(digits)) return undefined;
  const niceness = Number(digits);
  return isNiceness(niceness) ? niceness : undefined;
}
