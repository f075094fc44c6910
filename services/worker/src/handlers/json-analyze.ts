import { setTimeout as sleepFor } from "node:timers/promises";

import { defineHandler } from "@conveyor/worker-sdk";
import { z } from "zod";

import { describeDocument } from "../json-analysis/document-shape.ts";
import type { DocumentShape } from "../json-analysis/document-shape.ts";
import { withinBudget } from "../json-analysis/result-budget.ts";
import { analyzeShapes } from "../json-analysis/storage-decision.ts";

/** How long a `json.analyze` job may run unless it sets its own `timeoutMs`, in milliseconds. */
const analyzeTimeoutMs = 600_000;

export const JsonAnalyzePayload = z
  .strictObject({
    /** The JSON documents to analyse, 1 to 10000. */
    documents: z.array(z.unknown()).min(1).max(10_000),
    /** Pause after each document, in milliseconds, so progress can be watched live. @default 0 */
    delayPerDocumentMs: z.int().min(0).max(1000).default(0),
  })
  // Pauses longer than the handler's timeout would time out every attempt, to no end.
  .refine((p) => p.documents.length * p.delayPerDocumentMs < analyzeTimeoutMs, {
    path: ["delayPerDocumentMs"],
    message: `documents x delayPerDocumentMs must stay under ${analyzeTimeoutMs} ms, the job's timeout`,
  });
export type JsonAnalyzePayload = z.infer<typeof JsonAnalyzePayload>;

/**
 * `json.analyze`: infers each document's structure and recommends `sql` (flat rows) or `jsonb`
 * (nested, arrays of objects, sparse or heterogeneous), judging each document among those of
 * similar shape, and reports progress per document.
 */
export const jsonAnalyze = defineHandler({
  description:
    "Infers the structure of JSON documents and recommends sql or jsonb storage for each.",
  schema: JsonAnalyzePayload,
  // Room for 10000 documents at a small delay each; a job may set its own timeout.
  timeoutMs: analyzeTimeoutMs,
  handler: async (job, ctx) => {
    const { documents, delayPerDocumentMs } = job.payload;
    const total = documents.length;
    const shapes: DocumentShape[] = [];
    for (const [index, document] of documents.entries()) {
      ctx.signal.throwIfAborted();
      shapes.push(describeDocument(document));
      await ctx.progress(index + 1, total, `analyzed document ${index + 1}/${total}`);
      if (delayPerDocumentMs > 0)
        await sleepFor(delayPerDocumentMs, undefined, { signal: ctx.signal });
    }
    return withinBudget(analyzeShapes(shapes));
  },
});
