export {
  trace,
  startSpan,
  activeSpan,
  withSpan,
  recordError,
  inject,
  extract,
  logFields,
  type LogFields,
} from './api.js'
export { init, ensureStarted, isStarted, forceFlush, shutdown, onStart, onShutdown, type InitOptions, type Sdk } from './sdk.js'
export { getTracer, Tracer, type SpanOptions } from './tracer.js'
export {
  type Context,
  ROOT_CONTEXT,
  activeContext,
  withContext,
  bindContext,
  createContextKey,
  suppressTracing,
  isTracingSuppressed,
} from './context.js'
export {
  spanFrom,
  spanContextFrom,
  contextWithSpan,
  contextWithoutSpan,
  contextWithRemoteParent,
  isValidSpanContext,
} from './trace-context.js'
export {
  SpanKind,
  SpanStatusCode,
  TraceFlags,
  RecordingSpan,
  NonRecordingSpan,
  isSampled,
  type Span,
  type ReadableSpan,
  type SpanContext,
  type SpanStatus,
  type SpanEvent,
  type SpanLink,
  type Attributes,
  type AttributeValue,
  type TraceState,
  type InstrumentationScope,
} from './span.js'
export {
  SamplingDecision,
  alwaysOn,
  alwaysOff,
  traceIdRatioBased,
  parentBased,
  type Sampler,
  type SamplingResult,
  type ParentBasedOptions,
} from './sampler.js'
export {
  BatchSpanProcessor,
  SimpleSpanProcessor,
  type SpanProcessor,
  type BatchSpanProcessorOptions,
} from './processor.js'
export type { SpanExporter, ExportResult } from './export/exporter.js'
export { MemoryExporter, buildTrees, type SpanTreeNode } from './export/memory.js'
export { ConsoleExporter, formatTraces, type ConsoleExporterOptions } from './export/console.js'
export {
  type TextMapPropagator,
  type TextMapGetter,
  type TextMapSetter,
  headerGetter,
  headerSetter,
  compositePropagator,
} from './propagation/propagator.js'
export { w3cTraceContextPropagator } from './propagation/w3c.js'
export { randomIdGenerator, type IdGenerator } from './ids.js'
export type { Resource } from './resource.js'
export type { SpanLimits } from './limits.js'
export { epochNanos, epochMicros, epochMillis, type TimeInput } from './clock.js'
export { stats, type TracingStats } from './stats.js'
export { setDiagLogger, type DiagLogger, type DiagLevel } from './diag.js'
export * as semconv from './semconv.js'
export { VERSION } from './version.js'
