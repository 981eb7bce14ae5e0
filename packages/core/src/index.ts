export {
  activeSpan,
  extract,
  inject,
  type LogFields,
  logFields,
  recordError,
  startSpan,
  trace,
  withoutSpan,
  withSpan,
} from './api.js'
export { epochMicros, epochMillis, epochNanos, type TimeInput } from './clock.js'
export {
  activeContext,
  bindContext,
  bindContextToChannel,
  type Context,
  createContextKey,
  isTracingSuppressed,
  ROOT_CONTEXT,
  type StoreChannel,
  suppressTracing,
  withContext,
} from './context.js'
export { type DiagLevel, type DiagLogger, setDiagLogger } from './diag.js'
export { ConsoleExporter, type ConsoleExporterOptions, formatTraces } from './export/console.js'
export type { ExportResult, SpanExporter } from './export/exporter.js'
export { buildTrees, MemoryExporter, type SpanTreeNode } from './export/memory.js'
export {
  DEFAULT_OTLP_ENDPOINT,
  OtlpExporter,
  type OtlpExporterConfig,
  type OtlpExporterOptions,
  type OtlpProtocol,
} from './export/otlp.js'
export { type ExporterName, exportersFromNames } from './export/select.js'
export { XrayExporter, type XrayExporterOptions } from './export/xray.js'
export { DEFAULT_ZIPKIN_ENDPOINT, ZipkinExporter, type ZipkinExporterOptions } from './export/zipkin.js'
export type { OutgoingHttpOptions } from './http/client.js'
export {
  type CaptureHeaders,
  ERROR_TYPE_ABORTED,
  type IgnorePaths,
  isIgnoredPath,
  type ServerSpanHandle,
  type ServerSpanOptions,
  serverRequestFrom,
  startServerSpan,
} from './http/server.js'
export { type IdGenerator, randomIdGenerator } from './ids.js'
export type { SpanLimits } from './limits.js'
export {
  BatchSpanProcessor,
  type BatchSpanProcessorOptions,
  SimpleSpanProcessor,
  type SpanProcessor,
} from './processor.js'
export { type B3Options, b3Propagator } from './propagation/b3.js'
export {
  type Baggage,
  type BaggageEntry,
  type BaggageInput,
  getBaggage,
  setBaggage,
  w3cBaggagePropagator,
  withBaggage,
} from './propagation/baggage.js'
export { jaegerPropagator } from './propagation/jaeger.js'
export {
  compositePropagator,
  headerGetter,
  headerSetter,
  type TextMapGetter,
  type TextMapPropagator,
  type TextMapSetter,
} from './propagation/propagator.js'
export { type PropagatorName, propagatorFromNames } from './propagation/select.js'
export { createTraceState } from './propagation/tracestate.js'
export { parseTraceparent, w3cTraceContextPropagator } from './propagation/w3c.js'
export { xrayIdGenerator, xrayPropagator } from './propagation/xray.js'
export type { Resource } from './resource.js'
export {
  alwaysOff,
  alwaysOn,
  type ParentBasedOptions,
  parentBased,
  type Sampler,
  SamplingDecision,
  type SamplingResult,
  traceIdRatioBased,
} from './sampler.js'
export {
  ensureStarted,
  forceFlush,
  type InitOptions,
  init,
  isStarted,
  onShutdown,
  onStart,
  type Sdk,
  shutdown,
} from './sdk.js'
export * as semconv from './semconv.js'
// Also under `semconv`; kept at the top level for existing imports.
export {
  ATTR_DB_CLIENT_CONNECTION_POOL_IDLE,
  ATTR_DB_CLIENT_CONNECTION_POOL_IN_USE,
  ATTR_DB_CLIENT_CONNECTION_POOL_MAX,
  ATTR_DB_CLIENT_CONNECTION_POOL_PENDING,
  ATTR_DB_CLIENT_CONNECTION_POOL_WAIT_MS,
  ATTR_DB_QUERY_PARAMETER_PREFIX,
} from './semconv.js'
export {
  type Attributes,
  type AttributeValue,
  exceptionAttributes,
  type InstrumentationScope,
  isSampled,
  NonRecordingSpan,
  type ReadableSpan,
  RecordingSpan,
  type Span,
  type SpanContext,
  type SpanEvent,
  SpanKind,
  type SpanLink,
  type SpanStatus,
  SpanStatusCode,
  TraceFlags,
  type TraceState,
} from './span.js'
export {
  analyzeSql,
  type SanitizeOptions,
  type SqlInfo,
  sanitizeSql,
  sqlInfo,
} from './sql.js'
export { stats, type TracingStats } from './stats.js'
export {
  contextWithoutSpan,
  contextWithRemoteParent,
  contextWithSpan,
  isValidSpanContext,
  spanContextFrom,
  spanFrom,
} from './trace-context.js'
export { getTracer, type SpanOptions, Tracer } from './tracer.js'
export { VERSION } from './version.js'
