/** A pinned tool could not be found or built. The message says what to install or run. */
export class ProvisionError extends Error {
  override readonly name = "ProvisionError";
  /** The tool's binary name, such as `nats-server`, or `go`. */
  readonly tool: string;

  constructor(tool: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.tool = tool;
  }
}

/** The local stack could not start: a port is taken, a server or service failed to come up. */
export class StackError extends Error {
  override readonly name = "StackError";
}
