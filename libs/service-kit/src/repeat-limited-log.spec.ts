import { Writable } from "node:stream";

import { pino } from "pino";
import { describe, expect, it } from "vitest";

import { repeatLimitedWarn } from "./repeat-limited-log.ts";

function capturingLogger() {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(JSON.parse(chunk.toString("utf8")) as Record<string, unknown>);
      done();
    },
  });
  return { logger: pino({ level: "info" }, stream), lines };
}

describe("repeatLimitedWarn", () => {
  it("logs a kind of message once per interval and counts what it left out", async () => {
    const { logger, lines } = capturingLogger();
    let clock = 0;
    const warn = repeatLimitedWarn(logger, 10_000, () => clock);

    warn("Dropped 12 spans because maxQueueSize reached");
    clock = 1_000;
    warn("Dropped 40 spans because maxQueueSize reached");
    warn("export failed: connect ECONNREFUSED 127.0.0.1:4318");
    clock = 9_999;
    warn("Dropped 3 spans because maxQueueSize reached");
    clock = 10_000;
    warn("Dropped 7 spans because maxQueueSize reached");
    await new Promise((resolve) => setImmediate(resolve));

    expect(lines.map((line) => [line.level, line.msg, line.similarLeftOut])).toEqual([
      [40, "Dropped 12 spans because maxQueueSize reached", undefined],
      [40, "export failed: connect ECONNREFUSED 127.0.0.1:4318", undefined],
      [40, "Dropped 7 spans because maxQueueSize reached", 2],
    ]);
  });
});
