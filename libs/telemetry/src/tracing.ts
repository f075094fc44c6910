import {
  context,
  DiagLogLevel,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  TraceFlags,
  diag,
  isValidTraceId,
  trace,
} from "@opentelemetry/api";
import type {
  Attributes,
  Context,
  Link,
  Span,
  SpanContext,
  TextMapGetter,
  TextMapSetter,
  TraceState,
  Tracer,
} from "@opentelemetry/api";
import { W3CTraceContextPropagator, setGlobalErrorHandler } from "@opentelemetry/core";
import { OTLPTraceExporter as OTLPJsonTraceExporter } from "@opentelemetry/exporter-trace-otlp-http";
import { OTLPTraceExporter as OTLPProtobufTraceExporter } from "@opentelemetry/exporter-trace-otlp-proto";
import {
  detectResources,
  resourceAttributesEnvDetector,
  resourceFromAttributes,
  serviceInstanceIdDetector,
} from "@opentelemetry/resources";
import type { Resource } from "@opentelemetry/resources";
import {
  BatchSpanProcessor,
  RandomIdGenerator,
  SamplingDecision,
  TracerProvider,
} from "@opentelemetry/sdk-trace";
import type { IdGenerator, Sampler, SpanExporter, SpanProcessor } from "@opentelemetry/sdk-trace";
import { ATTR_SERVICE_NAME } from "@opentelemetry/semantic-conventions";

import { traceSampler } from "./samplers.ts";
import { SerialExporter } from "./serial-exporter.ts";

/** Anything with NATS-style headers: `MsgHdrs` from nats.js satisfies it. */
export interface HeaderCarrier {
  get(key: string): string;
  set(key: string, value: string): void;
  keys(): string[];
}

/** The trace a piece of work belongs to. Opaque: pass it along, never look inside. */
export interface TraceContext {
  readonly otelContext: Context;
}

export interface TracingOptions {
  /** `service.name` of every span this process records. */
  serviceName: string;
  /**
   * OTLP/HTTP base URL, e.g. `http://127.0.0.1:4318`. When unset (and no `spanProcessors` are given)
   * no spans are recorded; trace context still travels.
   */
  otlpEndpoint?: string | undefined;
  /**
   * The full URL spans are sent to, used as given (`OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`); wins
   * over `otlpEndpoint`.
   */
  otlpTracesEndpoint?: string | undefined;
  /**
   * How spans are encoded for `otlpEndpoint`, as `OTEL_EXPORTER_OTLP_PROTOCOL` names it. Protobuf,
   * OpenTelemetry's default, takes 30 % less CPU per span than JSON and 58 % fewer bytes.
   * @default "http/protobuf"
   */
  otlpProtocol?: OtlpProtocol | undefined;
  /** How spans wait for export to `otlpEndpoint`; unset fields keep {@link defaultSpanExportLimits}. */
  exportLimits?: Partial<SpanExportLimits> | undefined;
  /**
   * Receives OpenTelemetry's own warnings and errors: spans dropped because the export queue was
   * full, exports the endpoint refused or never answered. Without it they are not reported. The
   * SDK reports through one process-wide logger, so the last Tracing created with it receives them.
   */
  onExportProblem?: ((message: string) => void) | undefined;
  /**
   * Which new traces are recorded (`OTEL_TRACES_SAMPLER`). A trace's decision is made where it
   * starts and travels in `traceparent`'s sampled flag, which the default follows. It is asked
   * without the span's attributes and links (and again by the SDK for a span it keeps), which
   * OpenTelemetry's built-in samplers do not look at.
   * @default ParentBased(AlwaysOn): every trace, and whatever a producer decided
   */
  sampler?: Sampler | undefined;
  /** Extra span processors, for tests that collect spans in memory. */
  spanProcessors?: SpanProcessor[];
}

/** OTLP over HTTP, with protobuf or JSON bodies (`OTEL_EXPORTER_OTLP_PROTOCOL`). */
export const otlpProtocols = ["http/protobuf", "http/json"] as const;
export type OtlpProtocol = (typeof otlpProtocols)[number];

/**
 * How finished spans wait for export, in the terms of OpenTelemetry's `OTEL_BSP_*` variables.
 * One export runs at a time; spans that end while the queue is full are dropped.
 */
export interface SpanExportLimits {
  /** Finished spans held for export (`OTEL_BSP_MAX_QUEUE_SIZE`). */
  maxQueueSize: number;
  /** Spans sent in one export, at most `maxQueueSize` (`OTEL_BSP_MAX_EXPORT_BATCH_SIZE`). */
  maxExportBatchSize: number;
  /** Longest wait before a smaller batch is sent, in ms (`OTEL_BSP_SCHEDULE_DELAY`). */
  scheduledDelayMillis: number;
  /** How long one export may take, in ms (`OTEL_BSP_EXPORT_TIMEOUT`). */
  exportTimeoutMillis: number;
}

/**
 * OpenTelemetry's defaults, but with a queue and batches four times as large: one export runs at a
 * time, and a dispatcher taking a burst of 4,000 jobs/s ends 12,000 spans/s. With 2,048 / 512 it
 * dropped 45 % of them (20,000 jobs published over NATS, the four services exporting to a local
 * collector); with 8,192 / 2,048, none of 60,000. A full queue and the batch in flight hold about
 * 10 MiB of spans (measured), only while the collector is slower than the spans arrive.
 *
 * A smaller batch waits 500 ms instead of 5 s: spans held for seconds outlive the young
 * generation, and collecting them from the old one cost a dispatcher with a tenth of its traces
 * sampled 185-205 µs of CPU per job against 166-168 with 500 ms (155-170 exporting nothing).
 */
export const defaultSpanExportLimits: SpanExportLimits = {
  maxQueueSize: 8192,
  maxExportBatchSize: 2048,
  scheduledDelayMillis: 500,
  exportTimeoutMillis: 30_000,
};

export interface SpanAttributes {
  subject: string;
  jobId?: string | undefined;
  jobType?: string | undefined;
  attempt?: number | undefined;
}

const headerSetter: TextMapSetter<HeaderCarrier> = {
  set: (carrier, key, value) => {
    carrier.set(key, value);
  },
};

/**
 * Reads `traceparent` and `tracestate` whatever their case: NATS headers are case-sensitive, and a
 * Go publisher injecting through an `http.Header` carrier sends the canonical `Traceparent`.
 */
const headerGetter: TextMapGetter<HeaderCarrier | undefined> = {
  get: (carrier, key) => {
    if (carrier === undefined) return undefined;
    const exact = carrier.get(key);
    if (exact !== "") return exact;
    const other = carrier.keys().find((name) => name.toLowerCase() === key);
    return other === undefined ? undefined : carrier.get(other) || undefined;
  },
  keys: (carrier) => carrier?.keys() ?? [],
};

const w3cPropagator = new W3CTraceContextPropagator();

/** An HTTP request's headers, as Node gives them (`req.headers`: names in lower case). */
export type HttpTraceHeaders = Readonly<Record<string, string | string[] | undefined>>;

/**
 * Reads a request's `traceparent` and `tracestate`; a `traceparent` sent more than once is none
 * (W3C Trace Context: the request then starts a trace of its own).
 */
const httpHeaderGetter: TextMapGetter<HttpTraceHeaders> = {
  get: (carrier, key) => {
    const value = key === "traceparent" || key === "tracestate" ? carrier[key] : undefined;
    if (!Array.isArray(value)) return value;
    return key === "tracestate" ? value.join(",") : undefined;
  },
  keys: () => ["traceparent", "tracestate"],
};

/**
 * Writes the W3C `traceparent` (and `tracestate`) of an OpenTelemetry context into headers: what
 * Conveyor's services read, whatever propagator the application registered (B3, or none), and
 * nothing else (no baggage, which could push a message over `max_payload`).
 */
export function injectTraceContext(otelContext: Context, headers: HeaderCarrier): void {
  w3cPropagator.inject(otelContext, headers, headerSetter);
}

/** The trace id of a W3C `traceparent` value, or undefined when it is not a valid one. */
export function traceIdOfTraceparent(traceparent: string): string | undefined {
  const carrier = {
    get: (key: string) => (key === "traceparent" ? traceparent : ""),
    set: () => {},
    keys: () => ["traceparent"],
  };
  return traceIdOfContext(w3cPropagator.extract(ROOT_CONTEXT, carrier, headerGetter));
}

/** The W3C trace id of an OpenTelemetry context, or undefined when it carries no valid span. */
export function traceIdOfContext(otelContext: Context): string | undefined {
  const spanContext = trace.getSpanContext(otelContext);
  return spanContext && trace.isSpanContextValid(spanContext) ? spanContext.traceId : undefined;
}

/** How a span is run beyond its name, kind, attributes and parent. */
interface RunOptions {
  /** The trace id a root span starts (asked only for a root); a random one without it. */
  rootTraceId?: (() => string) | undefined;
  /** Whether what `fn` threw marks the span failed. @default every error */
  isFailure?: (err: unknown) => boolean;
  /** Attributes known only once `fn` settled (`thrown` when it threw), set before the span ends. */
  endAttributes?: (thrown: { error: unknown } | undefined) => Attributes;
  /** Spans of other traces the span follows from (a request that acted on this trace's job). */
  links?: readonly TraceContext[] | undefined;
}

/** How long {@link Tracing.shutdown} waits for the last spans to be sent, in milliseconds. */
export const defaultShutdownTimeoutMs = 3000;

/**
 * The one seam between Conveyor and OpenTelemetry: spans for publishing and consuming NATS messages,
 * and W3C `traceparent`/`tracestate` carried in message headers. Business code sees only
 * {@link TraceContext} and trace ids.
 *
 * When nothing exports spans (no OTLP endpoint, no span processor), spans are not recorded: each
 * is a context with its own span id in the same (sampled) trace, so trace ids and `traceparent`
 * headers are exactly what recording would give, without building span objects nobody reads.
 */
export class Tracing {
  readonly #provider: TracerProvider;
  readonly #tracer: Tracer;
  readonly #recording: boolean;
  readonly #sampler: Sampler;
  readonly #ids: RootTraceIds;
  readonly #onExportProblem: ((message: string) => void) | undefined;
  /** Spans their work marked failed (see {@link markFailed}), which must not end as OK. */
  readonly #markedFailed = new WeakSet<Span>();

  private constructor(
    provider: TracerProvider,
    serviceName: string,
    recording: boolean,
    sampler: Sampler,
    ids: RootTraceIds,
    onExportProblem: ((message: string) => void) | undefined,
  ) {
    this.#provider = provider;
    this.#tracer = provider.getTracer(serviceName);
    this.#recording = recording;
    this.#sampler = sampler;
    this.#ids = ids;
    this.#onExportProblem = onExportProblem;
  }

  static create(options: TracingOptions): Tracing {
    const processors: SpanProcessor[] = [...(options.spanProcessors ?? [])];
    const url =
      options.otlpTracesEndpoint ??
      (options.otlpEndpoint ? `${options.otlpEndpoint.replace(/\/$/, "")}/v1/traces` : undefined);
    if (url) {
      const limits = { ...defaultSpanExportLimits, ...options.exportLimits };
      // Behind it, at most a full queue's worth of batches (a flush at shutdown sends them all).
      const exporter = new SerialExporter(
        otlpExporter(url, options.otlpProtocol ?? "http/protobuf", limits),
        Math.ceil(limits.maxQueueSize / limits.maxExportBatchSize),
      );
      processors.push(new BatchSpanProcessor({ exporter, ...limits }));
    }
    if (options.onExportProblem) reportDiagnostics(options.onExportProblem);
    const sampler = options.sampler ?? traceSampler("parentbased_always_on");
    const ids = new RootTraceIds();
    const provider = new TracerProvider({
      resource: serviceResource(options.serviceName),
      spanProcessors: processors,
      sampler,
      idGenerator: ids,
    });
    return new Tracing(
      provider,
      options.serviceName,
      processors.length > 0,
      sampler,
      ids,
      options.onExportProblem,
    );
  }

  /** The trace context carried by message headers, or a fresh root when there is none. */
  extract(headers: HeaderCarrier | undefined): TraceContext {
    return { otelContext: w3cPropagator.extract(ROOT_CONTEXT, headers, headerGetter) };
  }

  /** Writes `traceparent` (and `tracestate`) of `context` into `headers`. */
  inject(context: TraceContext, headers: HeaderCarrier): void {
    injectTraceContext(context.otelContext, headers);
  }

  /** The W3C trace id of `context`, or undefined when it carries no valid span. */
  traceIdOf(context: TraceContext): string | undefined {
    return traceIdOfContext(context.otelContext);
  }

  /** Whether `context` carries a valid span of a trace its producer chose to record (sampled). */
  isSampled(context: TraceContext): boolean {
    return sampledSpanContext(context.otelContext) !== undefined;
  }

  /**
   * Runs `fn` in a SERVER span (an HTTP request): in the caller's trace when the request carries a
   * valid W3C `traceparent` (`incoming`, Node's request headers), as OpenTelemetry's HTTP servers
   * continue it, else as the root of a new trace. The span records `http.response.status_code`,
   * as `statusOf` tells it: of the answer once `fn` returned, of the `thrown` error when it threw
   * (without `statusOf`, an error's own numeric `status`, else 500). A thrown error answered 4xx
   * leaves the span's status unset (the client's mistake, in OpenTelemetry's HTTP conventions), one
   * answered 5xx marks it failed; a 5xx answered without throwing is marked with `markFailed`.
   */
  server<T>(
    name: string,
    attributes: Attributes,
    fn: (context: TraceContext) => Promise<T>,
    incoming?: HttpTraceHeaders,
    statusOf?: (thrown: { error: unknown } | undefined) => number,
  ): Promise<T> {
    const errorStatus = (error: unknown): number => {
      if (statusOf !== undefined) return statusOf({ error });
      const { status } = (error ?? {}) as { status?: unknown };
      return typeof status === "number" ? status : 500;
    };
    const isServerFailure = (error: unknown) => {
      const status = errorStatus(error);
      return !(status >= 400 && status < 500);
    };
    const endAttributes = (thrown: { error: unknown } | undefined): Attributes => {
      const status = thrown === undefined ? statusOf?.(undefined) : errorStatus(thrown.error);
      return status === undefined ? {} : { "http.response.status_code": status };
    };
    const parent =
      incoming === undefined
        ? ROOT_CONTEXT
        : w3cPropagator.extract(ROOT_CONTEXT, incoming, httpHeaderGetter);
    return this.#run(name, SpanKind.SERVER, () => attributes, parent, fn, {
      isFailure: isServerFailure,
      endAttributes,
    });
  }

  /**
   * Runs `fn` in a PRODUCER span; `fn` publishes with headers carrying that span's context. The
   * span links to `links`, spans of other traces it was caused by.
   */
  produce<T>(
    parent: TraceContext | undefined,
    attrs: SpanAttributes,
    fn: (context: TraceContext) => Promise<T>,
    links: readonly TraceContext[] = [],
  ): Promise<T> {
    return this.#run(
      `send ${attrs.subject}`,
      SpanKind.PRODUCER,
      () => messagingAttributes(attrs, "send"),
      parent?.otelContext ?? ROOT_CONTEXT,
      fn,
      { links },
    );
  }

  /**
   * Names the destination of the PRODUCER span in `context` once it is known, when it differs
   * from the one `produce` began with (a job gathered into a bulk message), so dashboards show
   * the subject the message really left on. `batchSize`: how many messages it went with.
   */
  sentTo(context: TraceContext, subject: string, batchSize?: number): void {
    const span = trace.getSpan(context.otelContext);
    if (span === undefined || !span.isRecording()) return;
    span.updateName(`send ${subject}`);
    span.setAttribute("messaging.destination.name", subject);
    if (batchSize !== undefined) span.setAttribute("messaging.batch.message_count", batchSize);
  }

  /**
   * Runs `fn` in a CONSUMER span that continues the trace carried by the message's headers. When
   * they carry none, the span starts the trace `rootTraceId` gives (asked only then), or a random
   * one.
   */
  consume<T>(
    headers: HeaderCarrier | undefined,
    attrs: SpanAttributes,
    fn: (context: TraceContext) => Promise<T>,
    rootTraceId?: () => string,
  ): Promise<T> {
    return this.#run(
      `process ${attrs.subject}`,
      SpanKind.CONSUMER,
      () => messagingAttributes(attrs, "process"),
      this.extract(headers).otelContext,
      fn,
      { rootTraceId },
    );
  }

  /**
   * Runs `fn`, the work of a batch of messages, in a CONSUMER span that continues the first
   * message's trace (as {@link consume} would), and gives every other message a CONSUMER span in
   * its own trace that ends with the batch: each job's trace then shows where its message was
   * processed, not only the first's. Without an exporter only the first message's headers are read
   * (`attrsOf` is not called).
   */
  async consumeBatch<M, T>(
    messages: readonly M[],
    headersOf: (msg: M) => HeaderCarrier | undefined,
    attrsOf: (msg: M) => SpanAttributes,
    batchAttrs: SpanAttributes,
    fn: (context: TraceContext) => Promise<T>,
  ): Promise<T> {
    const [first, ...rest] = messages;
    const firstHeaders = first === undefined ? undefined : headersOf(first);
    if (!this.#recording || rest.length === 0) return this.consume(firstHeaders, batchAttrs, fn);
    const batchSize = { "messaging.batch.message_count": messages.length };
    const others: Span[] = [];
    try {
      for (const msg of rest) {
        const attrs = attrsOf(msg);
        others.push(
          this.#start(
            `process ${attrs.subject}`,
            SpanKind.CONSUMER,
            () => ({ ...messagingAttributes(attrs, "process"), ...batchSize }),
            this.extract(headersOf(msg)).otelContext,
          ),
        );
      }
      const result = await this.#run(
        `process ${batchAttrs.subject}`,
        SpanKind.CONSUMER,
        () => ({ ...messagingAttributes(batchAttrs, "process"), ...batchSize }),
        this.extract(firstHeaders).otelContext,
        fn,
      );
      for (const span of others) span.setStatus({ code: SpanStatusCode.OK });
      return result;
    } catch (err) {
      for (const span of others) {
        span.setStatus({ code: SpanStatusCode.ERROR, message: errorMessage(err) });
      }
      throw err;
    } finally {
      for (const span of others) span.end();
    }
  }

  /**
   * Runs `fn` with `ctx` as OpenTelemetry's active context, so that spans the process's own
   * instrumentations start meanwhile, and jobs it submits (`JobClient` reads the active context),
   * join its trace. Needs a context manager (an OpenTelemetry SDK registers one); without, `fn`
   * just runs.
   */
  withActive<T>(ctx: TraceContext, fn: () => T): T {
    return context.with(ctx.otelContext, fn);
  }

  /** Runs `fn` in an INTERNAL span, a child of `parent`. */
  internal<T>(
    parent: TraceContext,
    name: string,
    attributes: Attributes,
    fn: (context: TraceContext) => Promise<T>,
  ): Promise<T> {
    return this.#run(name, SpanKind.INTERNAL, () => attributes, parent.otelContext, fn);
  }

  /**
   * Flushes what is left and stops exporting, waiting at most `timeoutMs`: a collector that does
   * not answer (the exporter retries for 10 s) must not hold a stopping service past its grace
   * period, nor fail its exit. Never rejects; spans it could not send are reported to
   * `onExportProblem`.
   */
  async shutdown({
    timeoutMs = defaultShutdownTimeoutMs,
  }: { timeoutMs?: number } = {}): Promise<void> {
    const report = (message: string) => this.#onExportProblem?.(message);
    let timer: NodeJS.Timeout | undefined;
    const gaveUp = new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        report(`tracing shutdown gave up after ${timeoutMs} ms; spans still queued are lost`);
        resolve();
      }, timeoutMs);
    });
    const flushed = this.#provider.shutdown().catch((err: unknown) => {
      report(`tracing shutdown could not export the last spans: ${errorMessage(err)}`);
    });
    try {
      await Promise.race([flushed, gaveUp]);
    } finally {
      clearTimeout(timer);
    }
  }

  async #run<T>(
    name: string,
    kind: SpanKind,
    attributes: () => Attributes,
    parent: Context,
    fn: (context: TraceContext) => Promise<T>,
    { rootTraceId, isFailure = () => true, endAttributes, links }: RunOptions = {},
  ): Promise<T> {
    const span = this.#start(name, kind, attributes, parent, rootTraceId, links);
    if (!this.#recording) return fn({ otelContext: trace.setSpan(parent, span) });
    let thrown: { error: unknown } | undefined;
    try {
      const result = await fn({ otelContext: trace.setSpan(parent, span) });
      // An OK status is final: it would hide a failure `fn` marked (markFailed).
      if (!this.#markedFailed.has(span)) span.setStatus({ code: SpanStatusCode.OK });
      return result;
    } catch (err) {
      thrown = { error: err };
      if (isFailure(err)) {
        span.setStatus({ code: SpanStatusCode.ERROR, message: errorMessage(err) });
        if (err instanceof Error) span.recordException(err);
      }
      throw err;
    } finally {
      if (endAttributes !== undefined) span.setAttributes(endAttributes(thrown));
      span.end();
    }
  }

  /**
   * Marks the span of `context` failed for an outcome its work returns rather than throws (a job
   * dead-lettered or handed back for a retry), so that the trace shows where the job failed.
   */
  markFailed(context: TraceContext, message: string): void {
    const span = trace.getSpan(context.otelContext);
    if (span === undefined || !span.isRecording()) return;
    span.setStatus({ code: SpanStatusCode.ERROR, message });
    this.#markedFailed.add(span);
  }

  /**
   * The span `name` runs in: through the SDK when this process records and the sampler keeps it,
   * otherwise a bare context in the same trace, which carries the decision on.
   *
   * Without an exporter nothing is recorded, so a span continues its parent's decision (a process
   * that exports downstream must not record a trace its producer sampled out), and only a root's
   * is asked of the sampler: the services after it follow that decision, as they would a recorded
   * root's. With one, the sampler is asked before the SDK because the SDK starts a span (copying
   * its attributes, making ids) before asking: in a CPU profile of the dispatcher with a tenth of
   * its traces sampled, that was 8 % of its busy time, nearly all for spans then dropped. A root's
   * trace id is chosen here and handed to the SDK, so that both ask about the same one.
   */
  #start(
    name: string,
    kind: SpanKind,
    attributes: () => Attributes,
    parent: Context,
    rootTraceId?: () => string,
    links: readonly TraceContext[] = [],
  ): Span {
    const parentSpan = trace.getSpanContext(parent);
    const inTrace = parentSpan !== undefined && trace.isSpanContextValid(parentSpan);
    if (!this.#recording && inTrace) {
      return this.#bare(parentSpan.traceId, parentSpan.traceFlags, parentSpan.traceState);
    }
    const given = inTrace ? undefined : rootTraceId?.();
    const root = given !== undefined && isValidTraceId(given) ? given : undefined;
    const traceId = inTrace ? parentSpan.traceId : (root ?? this.#ids.generateTraceId());
    const { decision } = this.#sampler.shouldSample(parent, traceId, name, kind, {}, []);
    if (!this.#recording || decision === SamplingDecision.NOT_RECORD) {
      const sampled = decision === SamplingDecision.RECORD_AND_SAMPLED;
      const flags = sampled ? TraceFlags.SAMPLED : TraceFlags.NONE;
      return this.#bare(traceId, flags, inTrace ? parentSpan.traceState : undefined);
    }
    if (!inTrace) this.#ids.nextRootTraceId = traceId;
    try {
      return this.#tracer.startSpan(
        name,
        { kind, attributes: attributes(), links: spanLinks(links) },
        parent,
      );
    } finally {
      this.#ids.nextRootTraceId = undefined;
    }
  }

  /** A span that is not recorded: a new span id in `traceId`, with the given decision. */
  #bare(traceId: string, traceFlags: number, traceState: TraceState | undefined): Span {
    return trace.wrapSpanContext({
      traceId,
      spanId: this.#ids.generateSpanId(),
      traceFlags,
      traceState,
    });
  }
}

/**
 * The spans of `contexts` as OpenTelemetry links, those of sampled traces only: a trace its
 * producer did not record is in no backend, and a link to it would lead nowhere.
 */
function spanLinks(contexts: readonly TraceContext[]): Link[] {
  const links: Link[] = [];
  for (const { otelContext } of contexts) {
    const spanContext = sampledSpanContext(otelContext);
    if (spanContext !== undefined) links.push({ context: spanContext });
  }
  return links;
}

/** The span `otelContext` carries, when it is valid and its trace sampled. */
function sampledSpanContext(otelContext: Context): SpanContext | undefined {
  const spanContext = trace.getSpanContext(otelContext);
  const sampled =
    spanContext !== undefined &&
    trace.isSpanContextValid(spanContext) &&
    (spanContext.traceFlags & TraceFlags.SAMPLED) !== 0;
  return sampled ? spanContext : undefined;
}

/**
 * Random span and trace ids, except that the next root's trace id can be chosen beforehand: the
 * one {@link Tracing} already asked the sampler about.
 */
class RootTraceIds implements IdGenerator {
  nextRootTraceId: string | undefined;
  readonly #random = new RandomIdGenerator();

  generateTraceId(): string {
    const chosen = this.nextRootTraceId;
    this.nextRootTraceId = undefined;
    return chosen ?? this.#random.generateTraceId();
  }

  generateSpanId(): string {
    return this.#random.generateSpanId();
  }
}

/**
 * Why OpenTelemetry would ignore this `OTEL_RESOURCE_ATTRIBUTES` value (its detector drops the whole
 * variable at the first bad entry, silently), or undefined when it takes it. Asks the detector's own
 * parser, so that a check at start refuses exactly what would be lost.
 */
export function resourceAttributesProblem(raw: string): string | undefined {
  // The parser is a protected method of the exported detector; its rules (one '=' per entry,
  // percent-encoding, 255 characters) are OpenTelemetry's to change, not to copy here.
  const parser = resourceAttributesEnvDetector as unknown as {
    _parseResourceAttributes(raw: string): unknown;
  };
  try {
    parser._parseResourceAttributes(raw);
    return undefined;
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
}

/**
 * What every span of this process says about where it comes from: `service.name`, a
 * `service.instance.id` (a random UUID per process, so that a dashboard tells replicas apart) and
 * what `OTEL_RESOURCE_ATTRIBUTES` adds (e.g. `k8s.pod.name=...,deployment.environment=prod`).
 * `OTEL_SERVICE_NAME` is not read: each service names itself.
 */
function serviceResource(serviceName: string): Resource {
  return detectResources({
    detectors: [serviceInstanceIdDetector, resourceAttributesEnvDetector],
  }).merge(resourceFromAttributes({ [ATTR_SERVICE_NAME]: serviceName }));
}

/**
 * The exporter gives a request up at the batch processor's export timeout (its own default is
 * 10 s): a request still open after the processor stopped waiting holds its spans for nothing.
 */
function otlpExporter(url: string, protocol: OtlpProtocol, limits: SpanExportLimits): SpanExporter {
  const config = { url, timeoutMillis: limits.exportTimeoutMillis };
  return protocol === "http/json"
    ? new OTLPJsonTraceExporter(config)
    : new OTLPProtobufTraceExporter(config);
}

/**
 * Routes OpenTelemetry's warnings and errors to `report`: its `diag` logger (dropped spans) and its
 * error handler (failed exports), one of each per process.
 */
function reportDiagnostics(report: (message: string) => void): void {
  setGlobalErrorHandler((err) => {
    report(describeArg(err));
  });
  const toReport = (message: string, ...args: unknown[]) => {
    report([message, ...args.map(describeArg)].join(" "));
  };
  const ignore = () => {};
  diag.setLogger(
    { error: toReport, warn: toReport, info: ignore, debug: ignore, verbose: ignore },
    { logLevel: DiagLogLevel.WARN, suppressOverrideMessage: true },
  );
}

function describeArg(arg: unknown): string {
  if (arg instanceof Error) return `${arg.name}: ${arg.message}`;
  if (typeof arg === "string") return arg;
  try {
    return JSON.stringify(arg);
  } catch {
    // A circular object: what String() makes of it beats losing the report.
    return String(arg);
  }
}

function messagingAttributes(attrs: SpanAttributes, operation: "send" | "process"): Attributes {
  const result: Attributes = {
    "messaging.system": "nats",
    "messaging.operation.type": operation,
    "messaging.destination.name": attrs.subject,
  };
  if (attrs.jobId !== undefined) result["conveyor.job.id"] = attrs.jobId;
  if (attrs.jobType !== undefined) result["conveyor.job.type"] = attrs.jobType;
  if (attrs.attempt !== undefined) result["conveyor.job.attempt"] = attrs.attempt;
  return result;
}

/** A thrown value's message for a span's status; never throws, whatever was thrown. */
function errorMessage(err: unknown): string {
  try {
    // Another library's Error may carry any value as its message, whatever its type says.
    return String(err instanceof Error ? (err as { message: unknown }).message : err);
  } catch {
    // A value with no way to text (an object without a prototype, a throwing toString).
    return Object.prototype.toString.call(err);
  }
}
