import { createTestContext, testJob } from "@conveyor/worker-sdk";
import { describe, expect, it } from "vitest";

import type { AnalysisResult } from "../json-analysis/storage-decision.ts";
import { JsonAnalyzePayload, jsonAnalyze } from "./json-analyze.ts";

const analyze = async (payload: unknown, ctx = createTestContext().ctx) =>
  (await jsonAnalyze.handler(testJob(JsonAnalyzePayload.parse(payload)), ctx)) as AnalysisResult;

describe("json.analyze", () => {
  it("recommends storage per document and summarises", async () => {
    const result = await analyze({
      documents: [
        { id: 1, name: "Ada" },
        { id: 2, name: "Bob" },
        { id: 3, name: "Cy", address: { city: "Oslo" } },
      ],
    });
    expect(result).toMatchObject({
      documents: [
        { index: 0, storage: "sql", depth: 1, fields: { id: "integer", name: "string" } },
        { index: 1, storage: "sql" },
        { index: 2, storage: "jsonb" },
      ],
      summary: { sql: 2, jsonb: 1 },
    });
    expect(result.documents[2]!.reason).toBe("nested objects at address");
  });

  it("reports progress after every document", async () => {
    const { ctx, progress } = createTestContext();
    await analyze({ documents: [{ a: 1 }, { a: 2 }, { a: 3 }] }, ctx);
    expect(progress).toEqual([
      { done: 1, total: 3, message: "analyzed document 1/3" },
      { done: 2, total: 3, message: "analyzed document 2/3" },
      { done: 3, total: 3, message: "analyzed document 3/3" },
    ]);
  });

  it("waits delayPerDocumentMs after each document and stops when aborted", async () => {
    const controller = new AbortController();
    const { ctx, progress } = createTestContext({ signal: controller.signal });
    const pending = analyze(
      { documents: [{ a: 1 }, { a: 2 }, { a: 3 }], delayPerDocumentMs: 1000 },
      ctx,
    );
    setTimeout(() => {
      controller.abort(new Error("stop"));
    }, 50);
    await expect(pending).rejects.toThrow();
    expect(progress).toHaveLength(1);
  });

  it("names the bad field of a payload", () => {
    const empty = JsonAnalyzePayload.safeParse({ documents: [] });
    expect(empty.error?.issues[0]?.path).toEqual(["documents"]);
    const delay = JsonAnalyzePayload.safeParse({ documents: [1], delayPerDocumentMs: 5000 });
    expect(delay.error?.issues[0]?.path).toEqual(["delayPerDocumentMs"]);
    expect(JsonAnalyzePayload.safeParse({ documents: Array(10_001).fill({}) }).success).toBe(false);
  });

  it("refuses pauses that would outlast the job's timeout, which no attempt could finish within", () => {
    const long = JsonAnalyzePayload.safeParse({
      documents: Array(1000).fill({}),
      delayPerDocumentMs: 600,
    });
    expect(long.error?.issues[0]?.path).toEqual(["delayPerDocumentMs"]);
    expect(long.error?.issues[0]?.message).toContain("timeout");
    const short = { documents: Array(1000).fill({}), delayPerDocumentMs: 599 };
    expect(JsonAnalyzePayload.safeParse(short).success).toBe(true);
  });

  it("returns a result grouped to fit one message for the largest batch it accepts", async () => {
    const documents = Array.from({ length: 10_000 }, (_, id) => ({ id, name: `n${id}` }));
    const result = await analyze({ documents });
    expect(JSON.stringify(result).length).toBeLessThanOrEqual(512 * 1024);
    expect(result.summary).toEqual({ sql: 10_000, jsonb: 0 });
  });
});
