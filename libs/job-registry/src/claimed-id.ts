/**
 * The `id` a job to submit claims, when it is an object with a string `id`: what a refusal of
 * anything a caller passed (a JavaScript `null`, a number, a job with a bad id) can name.
 */
export function claimedId(job: unknown): string | undefined {
  if (typeof job !== "object" || job === null) return undefined;
  const { id } = job as { id?: unknown };
  return typeof id === "string" ? id : undefined;
}
