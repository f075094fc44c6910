/** The parts of a V8 `.cpuprofile` (as written by `node --cpu-prof`) the summary reads. */
export interface CpuProfile {
  nodes: {
    id: number;
    callFrame: { functionName: string; url: string; lineNumber: number };
    hitCount?: number;
  }[];
  startTime: number;
  endTime: number;
}

/** One function's share of the samples. */
export interface HotFunction {
  /** `name (file:line)`, with the path shortened to what follows `node_modules/` or the workspace. */
  where: string;
  /** Share of all samples with this function on top of the stack, in percent. */
  selfPercent: number;
}

/** Shortens a script URL to the package or workspace path that says what it is. */
export function shortUrl(url: string): string {
  if (url === "") return "(native)";
  const modules = url.lastIndexOf("node_modules/");
  if (modules >= 0) return url.slice(modules + "node_modules/".length);
  const workspace = /\/(libs|services|tools|bench|test)\/.*/.exec(url);
  return workspace?.[0].slice(1) ?? url.replace(/^file:\/\//, "");
}

/** Which package (or workspace project, or runtime part) a script URL belongs to. */
export function packageOf(url: string): string {
  if (url === "") return "(native/V8)";
  if (url.startsWith("node:")) return "node";
  const short = shortUrl(url);
  if (short === url.replace(/^file:\/\//, "")) return short;
  const parts = short.split("/");
  if (parts[0] === "libs" || parts[0] === "services" || parts[0] === "tools") {
    return `${parts[0]}/${parts[1] ?? ""}`;
  }
  return parts[0]?.startsWith("@") === true ? `${parts[0]}/${parts[1] ?? ""}` : (parts[0] ?? short);
}

/** Samples of a profile that were not idle, grouped by `keyOf` their top-of-stack frame. */
function busyShares(
  profile: CpuProfile,
  keyOf: (frame: CpuProfile["nodes"][number]["callFrame"]) => string,
  top: number,
): HotFunction[] {
  const totals = new Map<string, number>();
  let busy = 0;
  for (const node of profile.nodes) {
    const hits = node.hitCount ?? 0;
    if (hits === 0 || node.callFrame.functionName === "(idle)") continue;
    busy += hits;
    const key = keyOf(node.callFrame);
    totals.set(key, (totals.get(key) ?? 0) + hits);
  }
  return [...totals.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([where, hits]) => ({ where, selfPercent: (hits * 100) / busy }));
}

/**
 * The `top` functions by self time, as shares of the busy (not idle) samples: samples where the
 * function was on top of the stack, summed over every call site.
 */
export function hotFunctions(profile: CpuProfile, top = 15): HotFunction[] {
  return busyShares(
    profile,
    ({ functionName, url, lineNumber }) =>
      url === ""
        ? functionName || "(anonymous)"
        : `${functionName || "(anonymous)"} (${shortUrl(url)}:${lineNumber + 1})`,
    top,
  );
}

/** Busy samples by package (`pino`, `@nats-io/jetstream`, `libs/worker-sdk`, `node`, ...). */
export function hotPackages(profile: CpuProfile, top = 10): HotFunction[] {
  return busyShares(profile, ({ url }) => packageOf(url), top);
}

/** Busy time of a profile in seconds (samples not idle, at the profile's mean sample interval). */
export function busySeconds(profile: CpuProfile): number {
  let all = 0;
  let idle = 0;
  for (const node of profile.nodes) {
    all += node.hitCount ?? 0;
    if (node.callFrame.functionName === "(idle)") idle += node.hitCount ?? 0;
  }
  const seconds = (profile.endTime - profile.startTime) / 1e6;
  return all === 0 ? 0 : (seconds * (all - idle)) / all;
}
