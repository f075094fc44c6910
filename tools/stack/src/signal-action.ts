/**
 * How long after the first stop signal another counts as a copy of it, in milliseconds. One Ctrl-C
 * under `npm start` reaches the stack twice where npm's script shell is bash: from the terminal,
 * to the whole foreground group, and from npm, which passes it on to its child.
 */
export const signalCopyWindowMs = 1000;

/**
 * What a stop signal (SIGINT, SIGTERM) asks for: the first a graceful `stop`; another one within
 * {@link signalCopyWindowMs} of it nothing (`ignore`, a copy of the first); a later one `kill`,
 * the user's second Ctrl-C.
 */
export function signalAction(
  firstSignalAt: number | undefined,
  now: number,
): "stop" | "ignore" | "kill" {
  if (firstSignalAt === undefined) return "stop";
  return now - firstSignalAt < signalCopyWindowMs ? "ignore" : "kill";
}
