/**
 * Job priorities: 0 (lowest) to 9 (highest), 5 when a submission names none. Each priority is a
 * lane of its own in `WORK` (a subject and a durable consumer per type and priority), so that a
 * worker can take the waiting jobs of the highest priority first however many of a lower one are
 * queued before them: a stream delivers one subject's messages in the order they were stored.
 */
export const JobPriority = { lowest: 0, highest: 9, default: 5 } as const;

/** Every priority, highest first: the order in which workers take waiting jobs. */
export const prioritiesHighestFirst: readonly number[] = Array.from(
  { length: JobPriority.highest - JobPriority.lowest + 1 },
  (_, i) => JobPriority.highest - i,
);

/**
 * The lane a job of `priority` waits in. Anything but a priority (a work item of another release,
 * published by hand) waits in the default lane, where the worker still reads it and says what is
 * wrong with it.
 */
export function laneOf(priority: unknown): number {
  return typeof priority === "number" &&
    Number.isInteger(priority) &&
    priority >= JobPriority.lowest &&
    priority <= JobPriority.highest
    ? priority
    : JobPriority.default;
}

/**
 * The last token of a lane's subject and consumer name, none for the default lane (whose subject
 * and consumer are those of the releases before lanes, so that jobs they queued still run). Job
 * type tokens cannot contain `_`, so no type's own subject or consumer name ends in one of these.
 */
export function laneSuffix(priority: number): string {
  const lane = laneOf(priority);
  return lane === JobPriority.default ? "" : `_p${String(lane)}`;
}

/** The priority a lane's token `_p<N>` names, or undefined for any other token. */
export function priorityOfLaneToken(token: string): number | undefined {
  const match = /^_p([0-9])$/.exec(token);
  return match === null ? undefined : Number(match[1]);
}
