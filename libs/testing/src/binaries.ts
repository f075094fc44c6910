import { accessSync, constants, existsSync } from "node:fs";
import { delimiter, dirname, join } from "node:path";

import { MissingBinaryError } from "./errors.ts";

/** The workspace root: the nearest ancestor of this file that holds `nx.json`. */
export function workspaceRoot(from: string = import.meta.dirname): string {
  let dir = from;
  for (;;) {
    if (existsSync(join(dir, "nx.json"))) return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`no nx.json above ${from}`);
    dir = parent;
  }
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * Finds a server binary: `<workspace>/.tools/bin/<name>` first (the pinned build that
 * `npm run provision` installs), then PATH. Throws {@link MissingBinaryError} when neither has it.
 */
export function findBinary(name: string, env: NodeJS.ProcessEnv = process.env): string {
  const toolsDir = join(workspaceRoot(), ".tools", "bin");
  const pathDirs = (env.PATH ?? "").split(delimiter).filter((d) => d !== "");
  for (const dir of [toolsDir, ...pathDirs]) {
    const candidate = join(dir, name);
    if (isExecutable(candidate)) return candidate;
  }
  throw new MissingBinaryError(name, [toolsDir, "PATH"], { ci: env.CI === "true" });
}
