import { readFile } from "node:fs/promises";
import { join } from "node:path";

import { shutdownDeadlineMs } from "@conveyor/service-kit";
import { workspaceRoot } from "@conveyor/testing";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";

interface ComposeService {
  ports?: string[];
  restart?: string;
  depends_on?: Record<string, { condition: string }>;
  stop_grace_period?: string;
  environment?: Record<string, string>;
}

async function composeServices(): Promise<Record<string, ComposeService>> {
  const text = await readFile(join(workspaceRoot(), "docker-compose.yml"), "utf8");
  return (parse(text, { merge: true }) as { services: Record<string, ComposeService> }).services;
}

describe("docker-compose.yml", () => {
  it("publishes every port on the host's loopback only: nothing in it has authentication", async () => {
    const published = Object.entries(await composeServices()).flatMap(([name, service]) =>
      (service.ports ?? []).map((port) => [name, port] as const),
    );
    expect(published.length).toBeGreaterThan(0);
    for (const [name, port] of published) expect(port, name).toMatch(/^127\.0\.0\.1:\d+:\d+$/);
  });

  it("restarts every long-running container, the servers the services need included", async () => {
    const services = await composeServices();
    for (const [name, service] of Object.entries(services)) {
      // The topology job runs once and exits.
      if (name === "topology") continue;
      expect(service.restart, name).toBe("unless-stopped");
    }
    expect(Object.keys(services)).toEqual(expect.arrayContaining(["nats", "mongo", "gateway"]));
  });

  it("starts the job's path without MongoDB, and the read model's services after it is healthy", async () => {
    const services = await composeServices();
    for (const name of ["dispatcher", "worker"]) {
      expect(Object.keys(services[name]?.depends_on ?? {}), name).toEqual(["topology"]);
    }
    for (const name of ["gateway", "status-projector"]) {
      expect(services[name]?.depends_on?.mongo, name).toEqual({ condition: "service_healthy" });
    }
  });

  it("lets each service's stop run to its own deadline before Docker kills it", async () => {
    const services = await composeServices();
    for (const name of ["gateway", "dispatcher", "worker", "status-projector"]) {
      const service = services[name];
      const graceMs = Number(service?.environment?.SHUTDOWN_GRACE_MS);
      expect(graceMs, name).toBeGreaterThan(0);
      const killedAfterS = Number(/^(\d+)s$/.exec(service?.stop_grace_period ?? "")?.[1] ?? 10);
      expect(killedAfterS * 1000, name).toBeGreaterThan(shutdownDeadlineMs(graceMs));
    }
  });
});
