/** A bench run cannot go on: a server is missing, a system did not become ready, a wait ran out. */
export class BenchError extends Error {
  override readonly name = "BenchError";
}

/**
 * A repetition measured some figures and then failed (a wait ran out): the runner keeps `sample`
 * and records the failure.
 */
export class PartialSampleError extends Error {
  override readonly name = "PartialSampleError";
  /** The figures measured before the failure. */
  readonly sample: Readonly<Record<string, number>>;

  constructor(sample: Readonly<Record<string, number>>, options: { cause: unknown }) {
    const reason = options.cause instanceof Error ? options.cause.message : String(options.cause);
    super(reason, options);
    this.sample = sample;
  }
}

/** `redis-server` is not installed and could not be installed. The message has the command to run. */
export class RedisMissingError extends Error {
  override readonly name = "RedisMissingError";
  /** The command that installs it. */
  readonly installCommand: string;

  constructor(installCommand: string, options?: { cause?: unknown }) {
    super(
      `redis-server is not installed (BullMQ needs it). Install it with:\n  ${installCommand}`,
      options,
    );
    this.installCommand = installCommand;
  }
}

/** A command-line option is unknown or malformed; the message names it. */
export class UsageError extends Error {
  override readonly name = "UsageError";
}
