/** The text a service's `GET /metrics` serves on `port` (on 127.0.0.1). */
export async function scrapeMetrics(port: number | string): Promise<string> {
  const res = await fetch(`http://127.0.0.1:${String(port)}/metrics`);
  if (res.status !== 200) throw new Error(`GET /metrics answered ${String(res.status)}`);
  return res.text();
}

/**
 * The value of the series `name` in Prometheus text whose labels include `labels` (in any order:
 * prom-client puts a histogram's default labels first), as written; undefined when there is none.
 */
export function metricValue(
  text: string,
  name: string,
  labels: Record<string, string>,
): string | undefined {
  const wanted = Object.entries(labels);
  for (const line of text.split("\n")) {
    const match = /^(\w+)\{([^}]*)\} (\S+)$/.exec(line);
    if (match?.[1] !== name) continue;
    const found = new Map(
      [...(match[2] ?? "").matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]),
    );
    if (wanted.every(([key, value]) => found.get(key) === value)) return match[3];
  }
  return undefined;
}
