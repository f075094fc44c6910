import { ExportResultCode } from "@opentelemetry/core";
import type { ExportResult } from "@opentelemetry/core";
import type { ReadableSpan, SpanExporter } from "@opentelemetry/sdk-trace";
import { describe, expect, it } from "vitest";

import { SerialExporter } from "./serial-exporter.ts";

/** An exporter whose exports finish when the test says, recording how many ran at once. */
function heldExporter() {
  const pending: ((result: ExportResult) => void)[] = [];
  let running = 0;
  let mostAtOnce = 0;
  const exporter: SpanExporter = {
    export: (_spans, done) => {
      mostAtOnce = Math.max(mostAtOnce, ++running);
      pending.push((result) => {
        running--;
        done(result);
      });
    },
    shutdown: () => Promise.resolve(),
  };
  return {
    exporter,
    finishNext: () => pending.shift()?.({ code: ExportResultCode.SUCCESS }),
    started: () => pending.length,
    mostAtOnce: () => mostAtOnce,
  };
}

const batch = [] as ReadableSpan[];
const settle = () => new Promise((resolve) => setTimeout(resolve, 0));

describe("SerialExporter", () => {
  it("runs one export at a time, in order, and refuses batches beyond what may wait", async () => {
    const inner = heldExporter();
    const serial = new SerialExporter(inner.exporter, 2);
    const results: string[] = [];
    const record = (name: string) => (result: ExportResult) => {
      results.push(`${name}:${result.code === ExportResultCode.SUCCESS ? "ok" : "failed"}`);
    };
    serial.export(batch, record("a"));
    await settle();
    serial.export(batch, record("b"));
    serial.export(batch, record("c"));
    serial.export(batch, record("d")); // a runs, b and c wait: refused
    expect(results).toEqual(["d:failed"]);
    while (inner.started() > 0) {
      inner.finishNext();
      await settle();
    }
    expect(results).toEqual(["d:failed", "a:ok", "b:ok", "c:ok"]);
    expect(inner.mostAtOnce()).toBe(1);
  });

  it("takes an export that arrives as the last one ends", async () => {
    const inner = heldExporter();
    const serial = new SerialExporter(inner.exporter, 1);
    const results: string[] = [];
    serial.export(batch, () => {
      results.push("a");
      // The batch processor starts its next export from the previous one's callback.
      void Promise.resolve().then(() => {
        serial.export(batch, () => results.push("b"));
      });
    });
    await settle();
    inner.finishNext();
    await settle();
    inner.finishNext();
    await settle();
    expect(results).toEqual(["a", "b"]);
  });

  it("goes on exporting when a batch's callback throws", async () => {
    const inner = heldExporter();
    const serial = new SerialExporter(inner.exporter, 2);
    const results: string[] = [];
    serial.export(batch, () => {
      throw new Error("callback broke");
    });
    serial.export(batch, () => results.push("b"));
    await settle();
    inner.finishNext();
    await settle();
    inner.finishNext();
    await settle();
    expect(results).toEqual(["b"]);
    await serial.shutdown();
  });
});
