import { spawn } from "node:child_process";

/** What a finished command printed and how it ended. */
export interface CommandResult {
  /** Exit code, or null when a signal ended it. */
  code: number | null;
  /** stdout and stderr, interleaved as they arrived. */
  output: string;
}

/** Options of {@link runCommand}. */
export interface RunCommandOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Called with each chunk of output while the command runs (a long `go build`). */
  onOutput?: (text: string) => void;
}

/**
 * Runs a command to completion. Rejects only when it cannot be started (ENOENT and the like);
 * a non-zero exit is a result.
 */
export function runCommand(
  command: string,
  args: readonly string[],
  options: RunCommandOptions = {},
): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    const append = (chunk: Buffer) => {
      const text = chunk.toString("utf8");
      output += text;
      options.onOutput?.(text);
    };
    child.stdout.on("data", append);
    child.stderr.on("data", append);
    child.once("error", reject);
    child.once("close", (code) => {
      resolve({ code, output });
    });
  });
}
