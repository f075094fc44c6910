import { describe, expect, it } from "vitest";

import { busySeconds, hotFunctions, hotPackages, packageOf, shortUrl } from "./cpu-profile.ts";
import type { CpuProfile } from "./cpu-profile.ts";

describe("shortUrl", () => {
  it("keeps what follows node_modules/ or the workspace folder", () => {
    expect(shortUrl("file:///work/main/node_modules/pino/lib/tools.js")).toBe("pino/lib/tools.js");
    expect(shortUrl("file:///work/main/libs/worker-sdk/src/settle.ts")).toBe(
      "libs/worker-sdk/src/settle.ts",
    );
    expect(shortUrl("node:internal/streams/writable")).toBe("node:internal/streams/writable");
    expect(shortUrl("")).toBe("(native)");
  });
});

describe("packageOf", () => {
  it("names the npm package, the workspace project or the runtime", () => {
    expect(packageOf("file:///w/node_modules/@nats-io/jetstream/lib/x.js")).toBe(
      "@nats-io/jetstream",
    );
    expect(packageOf("file:///w/node_modules/pino/lib/x.js")).toBe("pino");
    expect(packageOf("file:///w/libs/worker-sdk/src/settle.ts")).toBe("libs/worker-sdk");
    expect(packageOf("node:internal/streams/writable")).toBe("node");
    expect(packageOf("")).toBe("(native/V8)");
  });
});

describe("hotFunctions", () => {
  const frame = (functionName: string, url: string, lineNumber = 0) => ({
    functionName,
    url,
    lineNumber,
  });
  const profile: CpuProfile = {
    startTime: 0,
    endTime: 1,
    nodes: [
      { id: 1, callFrame: frame("(root)", ""), hitCount: 0 },
      { id: 2, callFrame: frame("(idle)", ""), hitCount: 50 },
      { id: 3, callFrame: frame("write", "file:///x/node_modules/pino/a.js", 9), hitCount: 20 },
      // The same function reached from another call site: counted together.
      { id: 4, callFrame: frame("write", "file:///x/node_modules/pino/a.js", 9), hitCount: 10 },
      { id: 5, callFrame: frame("", "file:///x/services/worker/src/main.ts", 0), hitCount: 20 },
    ],
  };

  it("ranks functions by their share of the busy samples, summing call sites", () => {
    expect(hotFunctions(profile)).toEqual([
      { where: "write (pino/a.js:10)", selfPercent: 60 },
      { where: "(anonymous) (services/worker/src/main.ts:1)", selfPercent: 40 },
    ]);
  });

  it("groups busy samples by package", () => {
    expect(hotPackages(profile)).toEqual([
      { where: "pino", selfPercent: 60 },
      { where: "services/worker", selfPercent: 40 },
    ]);
  });

  it("counts busy seconds from the share of samples that were not idle", () => {
    expect(busySeconds({ ...profile, startTime: 0, endTime: 2_000_000 })).toBe(1);
  });

  it("keeps only the top entries", () => {
    expect(hotFunctions(profile, 1)).toHaveLength(1);
  });
});
