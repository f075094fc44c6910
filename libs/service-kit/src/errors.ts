/** Configuration from the environment is missing or malformed. The message names the variable. */
export class ConfigError extends Error {
  override readonly name = "ConfigError";
  readonly variables: readonly string[];

  constructor(message: string, variables: readonly string[], options?: { cause?: unknown }) {
    super(message, options);
    this.variables = variables;
  }
}

/** A publish was made after its publisher was closed. */
export class PublisherClosedError extends Error {
  override readonly name = "PublisherClosedError";

  constructor(options?: { cause?: unknown }) {
    super("the publisher is closed", options);
  }
}

/**
 * A publish made after the server refused the publisher's subscription for acknowledgements (a
 * permissions violation on its inbox): nothing was sent. `cause` is the server's refusal.
 */
export class RepliesRefusedError extends Error {
  override readonly name = "RepliesRefusedError";

  constructor(cause: Error) {
    super(`the server refused the subscription for acknowledgements: ${cause.message}`, { cause });
  }
}
