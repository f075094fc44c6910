import { readFile } from "node:fs/promises";
import { join } from "node:path";

import { StreamName, prioritiesHighestFirst, workConsumerName } from "@conveyor/contracts";
import { workspaceRoot } from "@conveyor/testing";
import { builtinHandlers } from "@conveyor/worker";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";

const keda = join(workspaceRoot(), "k8s", "keda");

interface Trigger {
  type: string;
  metadata: { stream: string; consumer: string; natsServerMonitoringEndpoint: string };
}

describe("the KEDA overlay (k8s/keda)", () => {
  it("scales the workers on the backlog of every job type the reference worker serves", async () => {
    const scaler = parse(await readFile(join(keda, "worker-scaler.yaml"), "utf8")) as {
      spec: { scaleTargetRef: { name: string }; triggers: Trigger[] };
    };
    expect(scaler.spec.scaleTargetRef.name).toBe("worker");
    const triggers = scaler.spec.triggers;
    expect(triggers.every((t) => t.type === "nats-jetstream")).toBe(true);
    expect(triggers.every((t) => t.metadata.stream === StreamName.Work)).toBe(true);
    // The nats chart's client Service serves no monitoring port by default, and KEDA reaches each
    // server of a cluster as `<pod>.<endpoint host>`: only the headless Service has both.
    for (const { metadata } of triggers) {
      expect(metadata.natsServerMonitoringEndpoint).toBe(
        "nats-headless.nats.svc.cluster.local:8222",
      );
    }
    // Every priority's lane of every type.
    const lanes = Object.keys(builtinHandlers).flatMap((type) =>
      prioritiesHighestFirst.map((priority) => workConsumerName(type, priority)),
    );
    expect(triggers.map((t) => t.metadata.consumer).sort()).toEqual(lanes.sort());
  });

  it("leaves the worker count to KEDA: an apply does not set the base's replicas again", async () => {
    const kustomization = parse(await readFile(join(keda, "kustomization.yaml"), "utf8")) as {
      patches?: { target: { kind: string; name: string }; patch: string }[];
    };
    const removals = (kustomization.patches ?? [])
      .filter((p) => p.target.kind === "Deployment" && p.target.name === "worker")
      .flatMap((p) => parse(p.patch) as { op: string; path: string }[]);
    expect(removals).toContainEqual({ op: "remove", path: "/spec/replicas" });
    const base = await readFile(join(workspaceRoot(), "k8s", "base", "worker.yaml"), "utf8");
    expect(base).toMatch(/^ {2}replicas: \d+$/m);
  });
});
