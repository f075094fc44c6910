/** The first nats-server release whose message schedules read cron and `@every` patterns. */
export const recurringSchedulesSince = { major: 2, minor: 14 } as const;

/**
 * Whether nats-server `version` (as its INFO gives it: `2.14.9`, `2.12.0-beta.1`) ticks recurring
 * schedules. 2.12 holds one-time schedules only, and answers a cron pattern as one it cannot read,
 * which is no fault of the request's. A version that cannot be read counts as supporting them, so
 * that the server's own answer stands.
 */
export function supportsRecurringSchedules(version: string): boolean {
  const match = /^v?(\d+)\.(\d+)/.exec(version);
  if (match === null) return true;
  const major = Number(match[1]);
  const minor = Number(match[2]);
  return (
    major > recurringSchedulesSince.major ||
    (major === recurringSchedulesSince.major && minor >= recurringSchedulesSince.minor)
  );
}
