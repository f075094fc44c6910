/** A server binary is neither in `<workspace>/.tools/bin` nor on PATH. */
export class MissingBinaryError extends Error {
  override readonly name = "MissingBinaryError";
  /** The binary's file name, such as `nats-server`. */
  readonly binary: string;

  constructor(binary: string, searched: readonly string[], options?: { ci?: boolean }) {
    const ci = options?.ci
      ? " CI=true: the run fails rather than skipping the tests that need it."
      : "";
    super(
      `${binary} not found (looked in ${searched.join(", ")}). Run \`npm run provision\` to install the pinned servers.${ci}`,
    );
    this.binary = binary;
  }
}

/** A server process exited, or never became ready, while the harness started it. */
export class ServerStartError extends Error {
  override readonly name = "ServerStartError";
  /** The binary's file name. */
  readonly binary: string;
  /** The last lines the process wrote to stdout and stderr. */
  readonly output: string;

  constructor(binary: string, message: string, output: string, options?: { cause?: unknown }) {
    super(`${binary}: ${message}${output ? `\n--- ${binary} output ---\n${output}` : ""}`, options);
    this.binary = binary;
    this.output = output;
  }
}

/** {@link waitFor} ran out of time. The cause is the probe's last error, if it threw. */
export class WaitTimeoutError extends Error {
  override readonly name = "WaitTimeoutError";
  /** How long it waited, in milliseconds. */
  readonly timeoutMs: number;

  constructor(message: string, timeoutMs: number, options?: { cause?: unknown }) {
    super(`${message} (timed out after ${timeoutMs} ms)`, options);
    this.timeoutMs = timeoutMs;
  }
}
