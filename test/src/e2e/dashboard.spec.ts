import { readFile } from "node:fs/promises";
import { join } from "node:path";

import { parser } from "@prometheus-io/lezer-promql";
import { jetstream } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { describe, expect, it } from "vitest";

import { Subject } from "@conveyor/contracts";
import { serviceNames } from "@conveyor/stack";
import { workspaceRoot } from "@conveyor/testing";

import { metricValue, scrapeMetrics } from "../support/prometheus.ts";
import { startServiceStack, waitWhileRunning } from "./service-stack.ts";
import type { ServiceStack } from "./service-stack.ts";

const dashboardPath = "deploy/grafana/dashboards/conveyor.json";

interface Target {
  expr: string;
  refId: string;
  datasource: unknown;
}

interface Panel {
  id: number;
  type: string;
  title: string;
  datasource?: unknown;
  targets?: Target[];
}

interface Dashboard {
  uid: string;
  panels: Panel[];
  templating: { list: { name: string; type: string; query: unknown }[] };
}

/** Labels Prometheus adds to every series it scrapes, or that histograms carry. */
const addedLabels = new Set(["instance", "job", "le"]);

/** What the services serve: each metric family's series names, and the labels of their samples. */
interface Served {
  declared: Set<string>;
  labels: Map<string, Set<string>>;
}

function readServed(texts: readonly string[]): Served {
  const declared = new Set<string>();
  const labels = new Map<string, Set<string>>();
  for (const line of texts.join("\n").split("\n")) {
    const type = /^# TYPE (\w+) (\w+)$/.exec(line);
    if (type !== null) {
      const [, name, kind] = type as unknown as [string, string, string];
      const names =
        kind === "histogram" ? ["_bucket", "_sum", "_count"].map((s) => name + s) : [name];
      for (const n of names) declared.add(n);
      continue;
    }
    const sample = /^(\w+)(?:\{([^}]*)\})? \S+$/.exec(line);
    if (sample === null) continue;
    const [, name = "", pairs = ""] = sample;
    const set = labels.get(name) ?? new Set<string>();
    for (const [, label] of pairs.matchAll(/(\w+)="/g)) set.add(label ?? "");
    labels.set(name, set);
  }
  return { declared, labels };
}

/** An expression as Grafana sends it, with its variables given values. */
function asSent(expr: string): string {
  return expr.replaceAll("$__rate_interval", "1m").replaceAll("$type", ".*");
}

/** The metric names and label names an expression uses, or its syntax errors. */
function usedBy(expr: string): { metrics: string[]; labels: string[]; errors: string[] } {
  const tree = parser.parse(expr);
  const metrics: string[] = [];
  const labels: string[] = [];
  const errors: string[] = [];
  tree.iterate({
    enter: (node) => {
      const text = expr.slice(node.from, node.to);
      if (node.type.isError) errors.push(`at ${String(node.from)}: "${text}"`);
      else if (node.name === "Identifier" && node.node.parent?.name === "VectorSelector") {
        metrics.push(text);
      } else if (node.name === "LabelName") labels.push(text);
    },
  });
  return { metrics, labels, errors };
}

/** Each service's metrics port, from the line it logs once its endpoint listens. */
function metricsPort(stack: ServiceStack, name: (typeof serviceNames)[number]): string | undefined {
  return /"port":(\d+)[^\n]*metrics served/.exec(stack.processes[name].output())?.[1];
}

async function postJob(stack: ServiceStack, job: unknown): Promise<void> {
  const res = await fetch(`${stack.gatewayUrl}/v1/jobs`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(job),
  });
  expect(res.status, await res.text()).toBe(202);
}

describe("the Grafana dashboard", () => {
  it(
    "queries, in valid PromQL, only metrics and labels the running services serve",
    { timeout: 180_000 },
    async () => {
      const dashboard = JSON.parse(
        await readFile(join(workspaceRoot(), dashboardPath), "utf8"),
      ) as Dashboard;
      await using stack = await startServiceStack({
        env: { METRICS_PORT: "0", METRICS_HOST: "127.0.0.1" },
      });

      // Every series the dashboard shows: queued, succeeded, retried and dead jobs, a recorded
      // rejection, requests, queues and mailboxes.
      await waitWhileRunning(
        stack,
        async () => {
          const res = await fetch(`${stack.gatewayUrl}/v1/job-types`);
          const { items } = (await res.json()) as { items: { type: string }[] };
          return items.some((t) => t.type === "flaky");
        },
        { timeoutMs: 30_000, message: "the worker did not register its types" },
      );
      await postJob(stack, { type: "echo", payload: { n: 1 } });
      await postJob(stack, { type: "flaky", payload: { failTimes: 1 }, maxAttempts: 2 });
      await postJob(stack, { type: "flaky", payload: { failTimes: 5 }, maxAttempts: 1 });
      const nc = await connect({ servers: stack.natsUrl });
      try {
        await jetstream(nc).publish(Subject.submit("echo"), "not json");
      } finally {
        await nc.close();
      }

      const ports = serviceNames.map((name) => [name, metricsPort(stack, name)] as const);
      expect(ports.filter(([, port]) => port === undefined)).toEqual([]);
      const served = await waitWhileRunning(
        stack,
        async () => {
          const texts = await Promise.all(ports.map(([, port]) => scrapeMetrics(port!)));
          const text = texts.join("\n");
          // Counters start at 0: wait until these jobs are counted, so every histogram has samples.
          const counted = [
            metricValue(text, "conveyor_job_attempts_total", { type: "flaky", outcome: "dead" }),
            metricValue(text, "conveyor_job_attempts_total", { type: "flaky", outcome: "retry" }),
            metricValue(text, "conveyor_job_attempts_total", {
              type: "echo",
              outcome: "succeeded",
            }),
            metricValue(text, "conveyor_jobs_rejected_total", { reason: "invalid_json" }),
          ];
          return counted.every((value) => value === "1") ? readServed(texts) : undefined;
        },
        { timeoutMs: 30_000, message: "the metrics never showed a dead, a retry and a rejection" },
      );

      // The job-type variable's values: label_values(<metric>, <label>).
      for (const variable of dashboard.templating.list) {
        if (variable.type !== "query") continue;
        const query = JSON.stringify(variable.query);
        const [, metric = "", label = ""] = /label_values\((\w+), (\w+)\)/.exec(query) ?? [];
        expect(served.labels.get(metric)?.has(label), `${variable.name}: ${query}`).toBe(true);
      }

      const problems: string[] = [];
      const targets = dashboard.panels.flatMap((panel) =>
        (panel.targets ?? []).map((target) => ({ panel, target })),
      );
      expect(targets.length).toBeGreaterThan(10);
      for (const { panel, target } of targets) {
        const where = `"${panel.title}" ${target.refId}`;
        const { metrics, labels, errors } = usedBy(asSent(target.expr));
        for (const error of errors) problems.push(`${where}: syntax error ${error}`);
        if (metrics.length === 0) problems.push(`${where}: no metric`);
        const labelsServed = new Set(addedLabels);
        for (const metric of metrics) {
          if (!served.declared.has(metric)) {
            problems.push(`${where}: ${metric} is served by no service`);
            continue;
          }
          const sampled = served.labels.get(metric);
          if (sampled === undefined) problems.push(`${where}: ${metric} had no sample`);
          for (const label of sampled ?? []) labelsServed.add(label);
        }
        const checkable = metrics.every((metric) => served.labels.has(metric));
        for (const label of checkable ? labels : []) {
          if (!labelsServed.has(label)) problems.push(`${where}: no series of it has "${label}"`);
        }
      }
      expect(problems).toEqual([]);
    },
  );

  it("shows every panel from the datasource chosen on the dashboard", async () => {
    const dashboard = JSON.parse(
      await readFile(join(workspaceRoot(), dashboardPath), "utf8"),
    ) as Dashboard;
    const chosen = { type: "prometheus", uid: "${datasource}" };
    const graphs = dashboard.panels.filter((panel) => panel.type !== "row");

    expect(dashboard.templating.list.map((v) => v.name)).toEqual(["datasource", "type"]);
    expect(new Set(dashboard.panels.map((panel) => panel.id)).size).toBe(dashboard.panels.length);
    for (const panel of graphs) {
      expect(panel.datasource, panel.title).toEqual(chosen);
      for (const target of panel.targets ?? []) expect(target.datasource).toEqual(chosen);
    }
  });
});
