import { describe, expect, it } from "vitest";

import { createPrefixer, formatLogLine } from "./log-format.ts";

const plain = { color: false };

describe("formatLogLine", () => {
  it("renders a pino record as time, level, message and the remaining fields", () => {
    const line = JSON.stringify({
      level: "info",
      time: "2026-01-02T03:04:05.678Z",
      service: "gateway",
      pid: 42,
      msg: "job accepted",
      jobId: "j-1",
      attempt: 2,
      note: "two words",
    });
    expect(formatLogLine(line, plain)).toBe(
      '03:04:05.678 INFO  job accepted jobId=j-1 attempt=2 note="two words"',
    );
  });

  it("maps numeric pino levels and prints an error's stack indented below", () => {
    const line = JSON.stringify({
      level: 50,
      time: 0,
      msg: "boom",
      err: { type: "Error", message: "bad", stack: "Error: bad\n    at x (a.ts:1:1)" },
    });
    expect(formatLogLine(line, plain).split("\n")).toEqual([
      "00:00:00.000 ERROR boom",
      "    Error: bad",
      "        at x (a.ts:1:1)",
    ]);
  });

  it("renders nats-server's text lines in the same layout", () => {
    expect(formatLogLine("[18451] 2026/11/25 02:24:15.361102 [WRN] Slow consumer", plain)).toBe(
      "02:24:15.361 WARN  Slow consumer",
    );
  });

  it("leaves anything else unchanged", () => {
    for (const line of ["plain text", "{not json", "[1, 2]", '{"other":"shape"}', ""]) {
      expect(formatLogLine(line, plain)).toBe(line);
    }
  });
});

describe("createPrefixer", () => {
  it("pads the source name and prefixes every line of a multi-line text", () => {
    const prefixer = createPrefixer(8, plain);
    expect(prefixer.prefix("worker", "one\ntwo")).toBe("worker   | one\nworker   | two");
  });

  it("gives different sources different colours", () => {
    const prefixer = createPrefixer(8, { color: true });
    const a = prefixer.prefix("a", "x");
    const b = prefixer.prefix("b", "x");
    expect(a.includes("\u001b[")).toBe(true);
    expect(a.replace("a ", "b ")).not.toBe(b);
  });
});
