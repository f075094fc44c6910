/**
 * How long the server may spend on one read, in milliseconds (`maxTimeMS`): a reader that stops
 * waiting at its deadline has the server stop too, instead of leaving the query running.
 * Unset, a read runs as long as it takes.
 */
export interface ReadDeadline {
  maxTimeMS?: number | undefined;
}

/** The driver's options for a read with `deadline`. */
export function readOptions(deadline: ReadDeadline): { maxTimeMS?: number } {
  return deadline.maxTimeMS === undefined ? {} : { maxTimeMS: deadline.maxTimeMS };
}
