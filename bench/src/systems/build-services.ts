import { spawnSync } from "node:child_process";
import { join } from "node:path";

import { serviceNames } from "@conveyor/stack";
import { workspaceRoot } from "@conveyor/testing";

import { BenchError } from "../errors.ts";

/**
 * Compiles the four services and the libs they use (`nx run-many -t build`, cached by Nx), so the
 * bench runs the JavaScript that the container image runs rather than the TypeScript sources.
 */
export function buildServices(log: (line: string) => void): void {
  const root = workspaceRoot();
  const nx = join(root, "node_modules", ".bin", "nx");
  const args = ["run-many", "-t", "build", `--projects=${serviceNames.join(",")}`];
  log(`building the services: nx ${args.join(" ")}`);
  const result = spawnSync(nx, args, { cwd: root, encoding: "utf8" });
  if (result.status !== 0) {
    throw new BenchError(
      `building the services failed (exit ${result.status ?? result.signal}):\n${result.stdout}${result.stderr}`,
    );
  }
}
