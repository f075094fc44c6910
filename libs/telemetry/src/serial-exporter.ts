import { ExportResultCode } from "@opentelemetry/core";
import type { ExportResult } from "@opentelemetry/core";
import type { ReadableSpan, SpanExporter } from "@opentelemetry/sdk-trace";

interface Waiting {
  spans: ReadableSpan[];
  done: (result: ExportResult) => void;
}

/**
 * Runs one export at a time, holding at most `maxWaiting` batches behind it and refusing the rest
 * (reported as failed, so their spans count as dropped).
 *
 * The batch span processor means to export one batch at a time, but after an export that failed
 * or outlived its timeout it starts the next one while the previous is still sending (its
 * `finally` restarts the timer before its `catch` clears the exporting flag): with a collector that
 * never answers, exports, their connections and their spans piled up, 30 at once (the OTLP
 * exporter's limit). The OTLP exporter's own `concurrencyLimit` of 1 cannot replace this: it still
 * counts an export as running while that export's callback starts the next, and a flush at
 * shutdown hands over every batch at once.
 */
export class SerialExporter implements SpanExporter {
  readonly #inner: SpanExporter;
  readonly #maxWaiting: number;
  readonly #waiting: Waiting[] = [];
  #running: Promise<void> | undefined;

  constructor(inner: SpanExporter, maxWaiting: number) {
    this.#inner = inner;
    this.#maxWaiting = maxWaiting;
  }

  export(spans: ReadableSpan[], done: (result: ExportResult) => void): void {
    if (this.#waiting.length >= this.#maxWaiting) {
      const error = new Error(
        `${spans.length} spans dropped: ${this.#maxWaiting} batches wait for export`,
      );
      done({ code: ExportResultCode.FAILED, error });
      return;
    }
    this.#waiting.push({ spans, done });
    // Cleared by #drain in the turn it finds nothing waiting: an export arriving as the last one
    // ends finds the drain either still looping or over, never in between.
    this.#running ??= this.#drain();
  }

  async forceFlush(): Promise<void> {
    await this.#running;
    await this.#inner.forceFlush?.();
  }

  async shutdown(): Promise<void> {
    await this.#running;
    await this.#inner.shutdown();
  }

  async #drain(): Promise<void> {
    // Starts after export() stored the promise in #running, which this clears when done.
    await Promise.resolve();
    for (let next = this.#waiting.shift(); next !== undefined; next = this.#waiting.shift()) {
      const { spans, done } = next;
      const result = await new Promise<ExportResult>((resolve) => {
        try {
          this.#inner.export(spans, resolve);
        } catch (err) {
          resolve({
            code: ExportResultCode.FAILED,
            error: err instanceof Error ? err : new Error(String(err)),
          });
        }
      });
      try {
        done(result);
      } catch {
        // The processor's own bookkeeping failed: nothing to tell it; the next batch goes on.
      }
    }
    // Cleared in the turn the waiting list was found empty (nothing here can throw): an export
    // made from a callback synchronously was taken by the loop above; one made later (the batch
    // processor's, a few microtasks on) finds no drain and starts its own.
    this.#running = undefined;
  }
}
