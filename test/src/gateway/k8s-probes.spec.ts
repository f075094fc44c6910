import { readFile } from "node:fs/promises";
import { join } from "node:path";

import { defaultReadyTimeoutMs } from "@conveyor/gateway";
import { defaultTopologyWaitMs } from "@conveyor/service-kit";
import { workspaceRoot } from "@conveyor/testing";
import { describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";

interface Probe {
  timeoutSeconds?: number;
  periodSeconds?: number;
  failureThreshold?: number;
}

interface Container {
  readinessProbe?: Probe;
  startupProbe?: Probe;
}

async function gatewayContainer(): Promise<Container | undefined> {
  const text = await readFile(join(workspaceRoot(), "k8s", "base", "gateway.yaml"), "utf8");
  const deployment = parseAllDocuments(text)
    .map(
      (doc) =>
        doc.toJS() as {
          kind: string;
          spec: { template: { spec: { containers: Container[] } } };
        },
    )
    .find((doc) => doc.kind === "Deployment");
  return deployment?.spec.template.spec.containers[0];
}

describe("the gateway's Kubernetes probes", () => {
  it("waits longer than /readyz's checks, so a MongoDB outage does not take the gateways out of service", async () => {
    const probe = (await gatewayContainer())?.readinessProbe;
    expect(probe).toBeDefined();
    // Kubernetes' default is 1 s; /readyz answers degraded only once its MongoDB check gave up.
    const timeoutMs = (probe?.timeoutSeconds ?? 1) * 1000;
    expect(timeoutMs).toBeGreaterThanOrEqual(defaultReadyTimeoutMs + 1000);
  });

  it("lets a gateway wait for the topology before liveness counts (the first apply)", async () => {
    const probe = (await gatewayContainer())?.startupProbe;
    expect(probe).toBeDefined();
    // Kubernetes' defaults: every 10 s, 3 failures.
    const allowedMs = (probe?.periodSeconds ?? 10) * (probe?.failureThreshold ?? 3) * 1000;
    expect(allowedMs).toBeGreaterThan(defaultTopologyWaitMs);
  });
});
