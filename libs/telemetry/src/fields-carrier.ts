import type { HeaderCarrier } from "./tracing.ts";

/**
 * W3C Trace Context carried in a record's own fields rather than in message headers (a job of a
 * bulk submission, as CloudEvents carries it), as a carrier `Tracing.consume` and `Tracing.inject`
 * read and write.
 */
export class FieldsCarrier implements HeaderCarrier {
  readonly fields: { traceparent?: string; tracestate?: string };

  constructor(fields: { traceparent?: string; tracestate?: string } = {}) {
    this.fields = { ...fields };
  }

  get(key: string): string {
    if (key === "traceparent") return this.fields.traceparent ?? "";
    if (key === "tracestate") return this.fields.tracestate ?? "";
    return "";
  }

  set(key: string, value: string): void {
    if (key === "traceparent") this.fields.traceparent = value;
    else if (key === "tracestate") this.fields.tracestate = value;
  }

  keys(): string[] {
    return Object.keys(this.fields);
  }
}
