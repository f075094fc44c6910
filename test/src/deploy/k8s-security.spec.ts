import { readFile } from "node:fs/promises";
import { join } from "node:path";

import { workspaceRoot } from "@conveyor/testing";
import { describe, expect, it } from "vitest";
import { parse, parseAllDocuments } from "yaml";

const base = join(workspaceRoot(), "k8s", "base");

interface Patch {
  op: string;
  path: string;
  value: Record<string, unknown>;
}

describe("the Kubernetes workloads", () => {
  it("run unprivileged, as the restricted Pod Security Standard admits", async () => {
    const kustomization = parse(await readFile(join(base, "kustomization.yaml"), "utf8")) as {
      resources: string[];
      patches: { path: string; target: { kind: string } }[];
    };
    // Every Deployment and Job of the base gets the patch.
    const kinds = new Set<string>();
    for (const file of kustomization.resources) {
      for (const doc of parseAllDocuments(await readFile(join(base, file), "utf8"))) {
        const { kind } = doc.toJS() as { kind: string };
        if (kind === "Deployment" || kind === "Job") kinds.add(kind);
      }
    }
    const patched = kustomization.patches.filter((p) => p.path === "restricted-pods.yaml");
    expect(new Set(patched.map((p) => p.target.kind))).toEqual(kinds);

    const patch = parse(await readFile(join(base, "restricted-pods.yaml"), "utf8")) as Patch[];
    const at = (path: string) => patch.find((p) => p.op === "add" && p.path === path)?.value;
    expect(at("/spec/template/spec/securityContext")).toEqual({
      runAsNonRoot: true,
      runAsUser: 1000,
      runAsGroup: 1000,
      seccompProfile: { type: "RuntimeDefault" },
    });
    expect(at("/spec/template/spec/containers/0/securityContext")).toEqual({
      allowPrivilegeEscalation: false,
      capabilities: { drop: ["ALL"] },
      readOnlyRootFilesystem: true,
    });
  });

  it("each have one container, which the patch secures", async () => {
    for (const file of [
      "gateway.yaml",
      "dispatcher.yaml",
      "worker.yaml",
      "status-projector.yaml",
      "topology-job.yaml",
    ]) {
      for (const doc of parseAllDocuments(await readFile(join(base, file), "utf8"))) {
        const resource = doc.toJS() as {
          kind: string;
          spec?: { template?: { spec?: { containers?: unknown[] } } };
        };
        if (resource.kind !== "Deployment" && resource.kind !== "Job") continue;
        expect(resource.spec?.template?.spec?.containers, file).toHaveLength(1);
      }
    }
  });

  it("use an image whose user is a number, so that runAsNonRoot can be verified", async () => {
    const dockerfile = await readFile(join(workspaceRoot(), "deploy", "Dockerfile"), "utf8");
    const users = [...dockerfile.matchAll(/^USER\s+(\S+)/gm)].map((m) => m[1]);
    expect(users.at(-1)).toBe("1000:1000");
  });
});
