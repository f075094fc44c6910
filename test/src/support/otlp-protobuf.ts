import type { ReceivedSpan } from "./otlp-receiver.ts";

/**
 * Reads the spans of an OTLP `ExportTraceServiceRequest` in protobuf, the body that
 * `@opentelemetry/exporter-trace-otlp-proto` sends: only the fields a test looks at (the
 * resource's `service.name`, each span's ids, name and kind), by their numbers in
 * opentelemetry-proto's `trace.proto`, `resource.proto` and `common.proto`. Other fields are skipped.
 */
export function spansOfProtobuf(body: Uint8Array): ReceivedSpan[] {
  return fieldsOf(body, 1).flatMap((resourceSpans) => {
    const resource = fieldsOf(resourceSpans, 1)[0];
    const service = resource === undefined ? "" : serviceName(resource);
    return fieldsOf(resourceSpans, 2).flatMap((scopeSpans) =>
      fieldsOf(scopeSpans, 2).map((span) => spanOf(span, service)),
    );
  });
}

function serviceName(resource: Uint8Array): string {
  for (const keyValue of fieldsOf(resource, 1)) {
    const key = text(fieldsOf(keyValue, 1)[0]);
    const value = fieldsOf(keyValue, 2)[0];
    if (key === "service.name" && value !== undefined) return text(fieldsOf(value, 1)[0]);
  }
  return "";
}

function spanOf(span: Uint8Array, service: string): ReceivedSpan {
  const parentSpanId = hex(fieldsOf(span, 4)[0]);
  return {
    service,
    traceId: hex(fieldsOf(span, 1)[0]),
    spanId: hex(fieldsOf(span, 2)[0]),
    parentSpanId: parentSpanId === "" ? undefined : parentSpanId,
    name: text(fieldsOf(span, 5)[0]),
    kind: varintFields(span, 6)[0] ?? 0,
  };
}

const text = (bytes: Uint8Array | undefined) =>
  bytes === undefined ? "" : Buffer.from(bytes).toString("utf8");
const hex = (bytes: Uint8Array | undefined) =>
  bytes === undefined ? "" : Buffer.from(bytes).toString("hex");

type Field = { no: number; bytes: Uint8Array } | { no: number; varint: number };

/** The length-delimited fields numbered `no` of a message (sub-messages, strings, bytes). */
function fieldsOf(message: Uint8Array, no: number): Uint8Array[] {
  return [...fields(message)].flatMap((f) => (f.no === no && "bytes" in f ? [f.bytes] : []));
}

/** The varint fields numbered `no` of a message (enums, small integers). */
function varintFields(message: Uint8Array, no: number): number[] {
  return [...fields(message)].flatMap((f) => (f.no === no && "varint" in f ? [f.varint] : []));
}

/** The protobuf wire format: a tag (field number, wire type), then the field's value. */
function* fields(message: Uint8Array): Generator<Field> {
  let at = 0;
  const varint = (): number => {
    let value = 0;
    let scale = 1;
    for (;;) {
      const byte = message[at++];
      if (byte === undefined) throw new Error("protobuf: a varint runs past the message");
      value += (byte & 0x7f) * scale;
      if (byte < 0x80) return value;
      scale *= 128;
    }
  };
  while (at < message.length) {
    const tag = varint();
    const no = Math.floor(tag / 8);
    switch (tag % 8) {
      case 0:
        yield { no, varint: varint() };
        break;
      case 1:
        at += 8;
        break;
      case 2: {
        const length = varint();
        yield { no, bytes: message.subarray(at, at + length) };
        at += length;
        break;
      }
      case 5:
        at += 4;
        break;
      default:
        throw new Error(`protobuf: wire type ${tag % 8} of field ${no} is not one OTLP uses`);
    }
  }
}
