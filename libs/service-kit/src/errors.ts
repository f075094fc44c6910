/** Configuration from the environment is missing or malformed. The message names the variable. */
export class ConfigError extends Error {
  override readonly name = "ConfigError";
  readonly variables: readonly string[];

  constructor(message: string, variables: readonly string[], options?: { cause?: unknown }) {
    super(message, options);
    this.variables = variables;
  }
}
