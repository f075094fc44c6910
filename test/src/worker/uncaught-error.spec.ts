import { spawn } from "node:child_process";
import { once } from "node:events";
import { join } from "node:path";

import { waitFor, workspaceRoot } from "@conveyor/testing";
import { describe, expect, it } from "vitest";

import { useWorkFixture } from "./work-fixture.ts";

describe("a worker process whose handler's code throws where the SDK cannot catch it", () => {
  const fx = useWorkFixture();

  it("logs it, lets the other jobs finish within the grace period, and exits 1", async () => {
    // An abort listener that rejects (a rollback failing at the job's timeout) is uncaught: the
    // process cannot go on safely, but the jobs running beside it need not wait out their leases.
    const script = join(
      workspaceRoot(),
      "test",
      "src",
      "worker",
      "fixtures",
      "throwing-listener-worker.ts",
    );
    const child = spawn(process.execPath, ["--conditions=conveyor-source", script], {
      env: { PATH: process.env["PATH"], NATS_URL: fx.server.url, SLOW_MS: "2000" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
    const exited = once(child, "exit") as Promise<[number | null]>;
    try {
      await waitFor(() => Promise.resolve(output.includes('"msg":"ready"')), { timeoutMs: 15_000 });
      const slow = await fx.enqueue("listener.slow", {});
      await fx.eventsUntil(slow.id, "started");
      const throws = await fx.enqueue("listener.throws", {}, { timeoutMs: 300, maxAttempts: 1 });

      await fx.eventsUntil(slow.id, "succeeded");
      // The job whose timeout set it off is recorded as timed out, as any other.
      await fx.eventsUntil(throws.id, "dead");
      const [code] = await exited;
      expect(code, output).toBe(1);
      expect(output).toMatch(/"level":"fatal".*rollback failed/);
    } finally {
      child.kill("SIGKILL");
    }
  });
});
