import { readFile } from "node:fs/promises";
import { join } from "node:path";

import { workspaceRoot } from "@conveyor/testing";
import { describe, expect, it } from "vitest";
import { parse, parseAllDocuments } from "yaml";

import { defaultReadModelNiceness, parseNiceness, serviceNiceness } from "./read-model-priority.ts";
import { serviceNames } from "./service-process.ts";

describe("serviceNiceness", () => {
  it("makes only the status-projector nicer: every other service is on a job's path", () => {
    const niceness = Object.fromEntries(
      serviceNames.map((name) => [name, serviceNiceness(name, defaultReadModelNiceness)]),
    );
    expect(niceness).toEqual({
      gateway: 0,
      dispatcher: 0,
      worker: 0,
      "status-projector": defaultReadModelNiceness,
    });
    expect(serviceNiceness("status-projector", 0)).toBe(0);
  });
});

describe("parseNiceness", () => {
  it("reads a whole number from 0 to 19 in decimal digits, and nothing else", () => {
    expect(parseNiceness("0")).toBe(0);
    expect(parseNiceness(" 19 ")).toBe(19);
    for (const bad of ["", "20", "-1", "2.5", "1e1", "0x0a", "ten", "007"]) {
      expect(parseNiceness(bad), bad).toBeUndefined();
    }
  });
});

describe("the read model's CPU share in the container deployments", () => {
  const read = (...path: string[]) => readFile(join(workspaceRoot(), ...path), "utf8");

  it("is a smaller Kubernetes CPU request than every job-path service's", async () => {
    const cpuRequests = async (name: string) => {
      const documents = parseAllDocuments(await read("k8s", "base", `${name}.yaml`)).map(
        (doc) => doc.toJS() as unknown,
      );
      const deployment = documents.find(
        (doc): doc is Deployment => (doc as { kind?: string } | null)?.kind === "Deployment",
      );
      const containers = deployment?.spec.template.spec.containers ?? [];
      expect(containers, `k8s/base/${name}.yaml's containers`).not.toHaveLength(0);
      return containers.map((c) => millicores(c.resources?.requests?.cpu));
    };
    const [projector, ...others] = await cpuRequests("status-projector");
    expect(others).toEqual([]);
    for (const name of serviceNames.filter((n) => n !== "status-projector")) {
      for (const request of await cpuRequests(name)) expect(projector).toBeLessThan(request);
    }
  });

  it("is fewer compose cpu_shares than the default 1024 for the projector and MongoDB only", async () => {
    const compose = parse(await read("docker-compose.yml"), { merge: true }) as {
      services: Record<string, { cpu_shares?: number }>;
    };
    const shares = (name: string) => compose.services[name]?.cpu_shares ?? 1024;
    expect(Object.keys(compose.services)).toEqual(
      expect.arrayContaining(["status-projector", "mongo", "nats", ...serviceNames]),
    );
    expect(shares("status-projector")).toBeLessThan(1024);
    expect(shares("mongo")).toBeLessThan(1024);
    for (const name of ["nats", "gateway", "dispatcher", "worker"]) {
      expect(shares(name), name).toBe(1024);
    }
  });
});

interface Deployment {
  kind: "Deployment";
  spec: {
    template: {
      spec: { containers: { resources?: { requests?: { cpu?: string | number } } }[] };
    };
  };
}

/** A Kubernetes CPU quantity (`250m`, `0.5`, `1`) in millicores; NaN when there is none. */
function millicores(cpu: string | number | undefined): number {
  if (typeof cpu === "number") return cpu * 1000;
  if (cpu === undefined) return Number.NaN;
  return cpu.endsWith("m") ? Number(cpu.slice(0, -1)) : Number(cpu) * 1000;
}
