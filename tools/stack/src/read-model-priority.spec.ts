import { readFile } from "node:fs/promises";
import { join } from "node:path";

import { workspaceRoot } from "@conveyor/testing";
import { describe, expect, it } from "vitest";

import { defaultReadModelNiceness, serviceNiceness } from "./read-model-priority.ts";
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

describe("the read model's CPU share in the container deployments", () => {
  const read = (...path: string[]) => readFile(join(workspaceRoot(), ...path), "utf8");

  it("is a smaller Kubernetes CPU request than every job-path service's", async () => {
    const cpuRequest = async (name: string) => {
      const manifest = await read("k8s", `${name}.yaml`);
      const millicores = /requests: \{ cpu: (\d+)m/.exec(manifest)?.[1];
      expect(millicores, `k8s/${name}.yaml's CPU request`).toBeDefined();
      return Number(millicores);
    };
    const projector = await cpuRequest("status-projector");
    for (const name of serviceNames.filter((n) => n !== "status-projector")) {
      expect(projector).toBeLessThan(await cpuRequest(name));
    }
  });

  it("is fewer compose cpu_shares than the default 1024 for the projector and MongoDB only", async () => {
    const compose = await read("docker-compose.yml");
    const blocks = compose.split(/^ {2}(?=[a-z][\w-]*:$)/m).slice(1);
    const shares = Object.fromEntries(
      blocks.map((block) => [
        block.slice(0, block.indexOf(":")),
        Number(/^ {4}cpu_shares: (\d+)$/m.exec(block)?.[1] ?? 1024),
      ]),
    );
    expect(shares["status-projector"]).toBeLessThan(1024);
    expect(shares.mongo).toBeLessThan(1024);
    for (const name of ["nats", "gateway", "dispatcher", "worker"]) {
      expect(shares[name], name).toBe(1024);
    }
  });
});
