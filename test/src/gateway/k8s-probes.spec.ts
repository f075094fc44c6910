import { readFile } from "node:fs/promises";
import { join } from "node:path";

import { defaultReadyTimeoutMs } from "@conveyor/gateway";
import { workspaceRoot } from "@conveyor/testing";
import { describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";

interface Probe {
  timeoutSeconds?: number;
}

describe("the gateway's Kubernetes readiness probe", () => {
  it("waits longer than /readyz's checks, so a MongoDB outage does not take the gateways out of service", async () => {
    const text = await readFile(join(workspaceRoot(), "k8s", "base", "gateway.yaml"), "utf8");
    const deployment = parseAllDocuments(text)
      .map(
        (doc) =>
          doc.toJS() as {
            kind: string;
            spec: { template: { spec: { containers: { readinessProbe?: Probe }[] } } };
          },
      )
      .find((doc) => doc.kind === "Deployment");
    const probe = deployment?.spec.template.spec.containers[0]?.readinessProbe;
    expect(probe).toBeDefined();
    // Kubernetes' default is 1 s; /readyz answers degraded only once its MongoDB check gave up.
    const timeoutMs = (probe?.timeoutSeconds ?? 1) * 1000;
    expect(timeoutMs).toBeGreaterThanOrEqual(defaultReadyTimeoutMs + 1000);
  });
});
