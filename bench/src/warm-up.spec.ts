import { createServer } from "node:http";
import type { AddressInfo } from "node:net";

import { afterAll, beforeAll, describe, expect, it } from "vitest";

import type { BenchJob, Mark, SystemDriver } from "./systems/system.ts";
import { warmUp } from "./warm-up.ts";

/** An HTTP front that accepts every POST with 202 and counts the bodies it was sent, per path. */
const received = new Map<string, string[]>();
const front = createServer((req, res) => {
  let body = "";
  req.on("data", (chunk: Buffer) => (body += chunk.toString("utf8")));
  req.on("end", () => {
    received.set(req.url ?? "", [...(received.get(req.url ?? "") ?? []), body]);
    res.writeHead(req.method === "POST" ? 202 : 405).end();
  });
});
let frontUrl = "";

beforeAll(async () => {
  await new Promise<void>((resolve) => front.listen(0, "127.0.0.1", resolve));
  frontUrl = `http://127.0.0.1:${String((front.address() as AddressInfo).port)}`;
});

afterAll(() => {
  front.close();
});

describe("warmUp", () => {
  it("runs the load through each system in turn and waits until each has acknowledged all of it", async () => {
    const calls: string[] = [];
    const system = (name: string): SystemDriver =>
      ({
        name,
        http: { url: `${frontUrl}/${name}/v1/jobs`, body: `{"from":"${name}"}` },
        mark: () => Promise.resolve({} as Mark),
        submitMany: (jobs: readonly BenchJob[], batch: number) => {
          calls.push(`${name} submit ${jobs.length} in ${batch}s`);
          return Promise.resolve();
        },
        waitAcked: async (_mark: Mark, n: number) => {
          await Promise.resolve();
          calls.push(`${name} acked ${n}`);
        },
        waitIdle: () => Promise.resolve(),
        waitCaughtUp: () => Promise.resolve(undefined),
      }) as unknown as SystemDriver;
    let id = 0;
    const context = {
      jobs: (n: number) =>
        Array.from({ length: n }, (): BenchJob => ({ id: `j${++id}`, kind: "noop", payload: {} })),
      log: () => {},
      timeoutMs: 1000,
      catchUpMs: 0,
    };

    await warmUp({ conveyor: system("conveyor"), bullmq: system("bullmq") }, context, {
      jobs: 300,
      batch: 100,
      httpRequests: 40,
    });

    // The HTTP front's submissions run as jobs too, and are waited for with the rest.
    expect(calls).toEqual([
      "conveyor submit 300 in 100s",
      "conveyor acked 340",
      "bullmq submit 300 in 100s",
      "bullmq acked 340",
    ]);
    expect(received.get("/conveyor/v1/jobs")).toEqual(Array(40).fill(`{"from":"conveyor"}`));
    expect(received.get("/bullmq/v1/jobs")).toHaveLength(40);
  });
});
