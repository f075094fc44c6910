import { defineConfig } from "vitest/config";

/** Vitest settings every project shares: source-condition resolution and generous real-server timeouts. */
export function projectConfig(overrides: { testTimeout?: number; include?: string[] } = {}) {
  return defineConfig({
    resolve: { conditions: ["conveyor-source"] },
    ssr: { resolve: { conditions: ["conveyor-source"] } },
    test: {
      include: overrides.include ?? ["src/**/*.spec.ts"],
      testTimeout: overrides.testTimeout ?? 20_000,
      hookTimeout: 60_000,
      pool: "forks",
    },
  });
}
