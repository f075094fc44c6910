import { readFile } from "node:fs/promises";
import { join } from "node:path";

import { shutdownDeadlineMs } from "@conveyor/service-kit";
import { workspaceRoot } from "@conveyor/testing";
import { describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";

const base = join(workspaceRoot(), "k8s", "base");

interface Probe {
  httpGet?: { path: string; port: string };
  tcpSocket?: { port: string };
  timeoutSeconds?: number;
  failureThreshold?: number;
  periodSeconds?: number;
}

interface Workload {
  kind: string;
  metadata: { name: string };
  spec: {
    minReadySeconds?: number;
    strategy?: { type: string; rollingUpdate?: { maxUnavailable: number; maxSurge: number } };
    template: {
      spec: {
        terminationGracePeriodSeconds?: number;
        containers: {
          lifecycle?: { preStop?: { exec?: { command: string[] } } };
          ports?: { name: string }[];
          readinessProbe?: Probe;
          livenessProbe?: Probe;
          startupProbe?: Probe;
          resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
        }[];
      };
    };
  };
}

async function workload(file: string): Promise<Workload> {
  const docs = parseAllDocuments(await readFile(join(base, file), "utf8"));
  const found = docs
    .map((doc) => doc.toJS() as Workload)
    .find((resource) => resource.kind === "Deployment" || resource.kind === "Job");
  if (found === undefined) throw new Error(`no workload in ${file}`);
  return found;
}

describe("the Kubernetes workloads' rollouts", () => {
  it.each(["dispatcher.yaml", "worker.yaml", "status-projector.yaml"])(
    "%s is ready only once it serves its metrics port, which it opens after NATS and the topology",
    async (file) => {
      const [container] = (await workload(file)).spec.template.spec.containers;
      expect(container?.ports?.map((port) => port.name)).toContain("metrics");
      expect(container?.readinessProbe?.tcpSocket).toEqual({ port: "metrics" });
      // Longer than TOPOLOGY_WAIT_MS (2 min), which a first apply may wait.
      const startup = container?.startupProbe;
      expect(startup?.tcpSocket).toEqual({ port: "metrics" });
      expect((startup?.periodSeconds ?? 10) * (startup?.failureThreshold ?? 3)).toBeGreaterThan(
        120,
      );
    },
  );

  it.each(["dispatcher.yaml", "worker.yaml"])(
    "%s replaces an old pod only once a new one has been ready a while",
    async (file) => {
      const { spec } = await workload(file);
      expect(spec.strategy).toEqual({
        type: "RollingUpdate",
        rollingUpdate: { maxUnavailable: 0, maxSurge: 1 },
      });
      expect(spec.minReadySeconds).toBeGreaterThanOrEqual(10);
    },
  );

  it("restarts a gateway only after it stopped answering for a minute, not one that is slow", async () => {
    const [container] = (await workload("gateway.yaml")).spec.template.spec.containers;
    const liveness = container?.livenessProbe;
    expect(liveness?.httpGet?.path).toBe("/healthz");
    expect(liveness?.timeoutSeconds).toBeGreaterThanOrEqual(5);
    expect(
      (liveness?.periodSeconds ?? 10) * (liveness?.failureThreshold ?? 3),
    ).toBeGreaterThanOrEqual(60);
  });

  it("gives the topology Job requests and a memory limit, which a namespace's quota may demand", async () => {
    const [container] = (await workload("topology-job.yaml")).spec.template.spec.containers;
    const requests = container?.resources?.requests ?? {};
    expect(Object.keys(requests).sort()).toEqual(["cpu", "memory"]);
    expect(container?.resources?.limits?.memory).toEqual(expect.any(String));
  });

  it.each(["gateway.yaml", "dispatcher.yaml", "worker.yaml", "status-projector.yaml"])(
    "%s lets a stop run to the service's own deadline before the kubelet kills it",
    async (file) => {
      const config = await readFile(join(base, "config.env"), "utf8");
      const graceMs = Number(/^SHUTDOWN_GRACE_MS=(\d+)$/m.exec(config)?.[1]);
      expect(graceMs).toBeGreaterThan(0);
      const { spec } = await workload(file);
      const [container] = spec.template.spec.containers;
      const preStop = container?.lifecycle?.preStop?.exec?.command;
      const preStopMs = preStop?.[0] === "sleep" ? Number(preStop[1]) * 1000 : 0;
      const killedAfterMs = (spec.template.spec.terminationGracePeriodSeconds ?? 30) * 1000;
      expect(killedAfterMs).toBeGreaterThan(preStopMs + shutdownDeadlineMs(graceMs));
    },
  );
});
