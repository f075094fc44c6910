import { access, readFile } from "node:fs/promises";
import { join } from "node:path";

import { workspaceRoot } from "@conveyor/testing";
import { describe, expect, it } from "vitest";
import { parse, parseAllDocuments } from "yaml";

import { serviceNames } from "./service-process.ts";

const k8s = join(workspaceRoot(), "k8s");

interface Kustomization {
  kind?: string;
  resources?: string[];
  components?: string[];
  configMapGenerator?: { name: string; envs?: string[] }[];
}

/** The pod spec of the Deployment or Job in k8s/base/<name>.yaml. */
async function podSpecOf<P>(name: string): Promise<P | undefined> {
  const text = await readFile(join(k8s, "base", `${name}.yaml`), "utf8");
  return parseAllDocuments(text)
    .map((doc) => doc.toJS() as { kind: string; spec: { template: { spec: P } } })
    .find((doc) => doc.kind === "Deployment" || doc.kind === "Job")?.spec.template.spec;
}

/** The containers of the Deployment or Job in k8s/base/<name>.yaml. */
async function containersOf<C>(name: string): Promise<C[]> {
  return (await podSpecOf<{ containers: C[] }>(name))?.containers ?? [];
}

const kustomization = async (dir: string) =>
  parse(await readFile(join(k8s, dir, "kustomization.yaml"), "utf8")) as Kustomization;

describe("the Kubernetes manifests", () => {
  it.each(["", "base", "keda", "monitoring"])(
    "k8s/%s lists only files and folders that exist",
    async (dir) => {
      const { resources = [], configMapGenerator = [] } = await kustomization(dir);
      const paths = [...resources, ...configMapGenerator.flatMap((g) => g.envs ?? [])];
      expect(paths).not.toHaveLength(0);
      for (const path of paths) await access(join(k8s, dir, path));
    },
  );

  it("applies the base from k8s/ and its overlays, and only the keda overlay needs KEDA", async () => {
    expect((await kustomization("")).resources).toEqual(["base"]);
    expect((await kustomization("keda")).resources).toContain("../base");
    for (const resource of (await kustomization("base")).resources ?? []) {
      const text = await readFile(join(k8s, "base", resource), "utf8");
      expect(text, resource).not.toContain("keda.sh");
    }
  });

  it("adds monitoring as a component, not a second copy of the base to apply apart", async () => {
    // Two entry points applied to one cluster fight over the worker count KEDA owns.
    const monitoring = await kustomization("monitoring");
    expect(monitoring.kind).toBe("Component");
    expect(monitoring.resources).not.toContain("../base");
    // Added at k8s/, whose kustomization sets no namespace, it must name the base's own.
    const base = (await kustomization("base")) as Kustomization & { namespace?: string };
    for (const resource of monitoring.resources ?? []) {
      const doc = parse(await readFile(join(k8s, "monitoring", resource), "utf8")) as {
        metadata: { namespace?: string };
      };
      expect(doc.metadata.namespace, resource).toBe(base.namespace);
    }
    // Offered, commented out, in both entry points.
    const keda = await readFile(join(k8s, "keda", "kustomization.yaml"), "utf8");
    expect(keda).toMatch(/^# components:\n# {3}- \.\.\/monitoring$/m);
    const root = await readFile(join(k8s, "kustomization.yaml"), "utf8");
    expect(root).toMatch(/^# components:\n# {3}- monitoring$/m);
  });

  it.each([...serviceNames, "topology-job"])(
    "gives %s the generated configuration",
    async (name) => {
      const { configMapGenerator = [] } = await kustomization("base");
      const containers = await containersOf<{ envFrom?: { configMapRef?: { name: string } }[] }>(
        name,
      );
      for (const container of containers) {
        const configMaps = (container.envFrom ?? []).flatMap((e) =>
          e.configMapRef === undefined ? [] : [e.configMapRef.name],
        );
        expect(configMaps).toEqual(configMapGenerator.map((g) => g.name));
      }
    },
  );

  it.each([
    ...serviceNames.map((name) => [name, "conveyor-nats"] as const),
    ["topology-job", "conveyor-topology-nats"] as const,
  ])(
    "gives %s NATS credentials from an optional Secret of its role, %s, and its creds file",
    async (name, secret) => {
      interface Container {
        envFrom?: { secretRef?: { name: string; optional?: boolean } }[];
        volumeMounts?: { name: string; mountPath: string }[];
      }
      const pod = await podSpecOf<{
        containers: Container[];
        volumes?: { name: string; secret?: { secretName: string; optional?: boolean } }[];
      }>(name);
      const [container] = pod?.containers ?? [];
      // Optional: a NATS server without authentication needs neither Secret to exist.
      expect(container?.envFrom).toContainEqual({ secretRef: { name: secret, optional: true } });
      const mount = container?.volumeMounts?.find((m) => m.mountPath === "/etc/conveyor/nats");
      const volume = pod?.volumes?.find((v) => v.name === mount?.name);
      expect(volume?.secret).toEqual({ secretName: `${secret}-creds`, optional: true });
    },
  );

  it.each(serviceNames)(
    "has the monitoring overlay's PodMonitor scrape %s's metrics port",
    async (name) => {
      const text = await readFile(join(k8s, "monitoring", "pod-monitor.yaml"), "utf8");
      const monitor = parse(text) as {
        spec: {
          selector: { matchLabels: Record<string, string> };
          podMetricsEndpoints: { port: string; honorLabels?: boolean }[];
        };
      };
      const deployment = parseAllDocuments(
        await readFile(join(k8s, "base", `${name}.yaml`), "utf8"),
      )
        .map(
          (doc) =>
            doc.toJS() as {
              kind: string;
              spec: {
                template: {
                  metadata: { labels: Record<string, string> };
                  spec: { containers: { ports?: { name: string; containerPort: number }[] }[] };
                };
              };
            },
        )
        .find((doc) => doc.kind === "Deployment");
      const template = deployment?.spec.template;
      expect(template?.metadata.labels).toMatchObject(monitor.spec.selector.matchLabels);
      const [endpoint] = monitor.spec.podMetricsEndpoints;
      expect(endpoint?.honorLabels).toBe(true);
      const ports = template?.spec.containers.flatMap((c) => c.ports ?? []);
      expect(ports).toContainEqual({ name: endpoint?.port, containerPort: 9464 });
    },
  );

  it.each(serviceNames)("names each %s pod in its spans' resource", async (name) => {
    const containers = await containersOf<{
      env?: { name: string; value?: string; valueFrom?: unknown }[];
    }>(name);
    const env = containers[0]?.env ?? [];
    const names = env.map((e) => e.name);
    const attributes = env.find((e) => e.name === "OTEL_RESOURCE_ATTRIBUTES");
    expect(attributes?.value).toBe("k8s.pod.name=$(POD_NAME),k8s.namespace.name=$(POD_NAMESPACE)");
    expect(names).toEqual(expect.arrayContaining(["POD_NAME", "POD_NAMESPACE"]));
    // Kubernetes expands $(VAR) only from variables defined before it.
    expect(names.indexOf("POD_NAME")).toBeLessThan(names.indexOf("OTEL_RESOURCE_ATTRIBUTES"));
    expect(names.indexOf("POD_NAMESPACE")).toBeLessThan(names.indexOf("OTEL_RESOURCE_ATTRIBUTES"));
    expect(env.find((e) => e.name === "POD_NAME")?.valueFrom).toEqual({
      fieldRef: { fieldPath: "metadata.name" },
    });
  });
});
