import { activeContext, type Context, createContextKey } from './context.js'
import { isValidSpanId, isValidTraceId } from './ids.js'
import { NonRecordingSpan, type Span, type SpanContext } from './span.js'

/** Where a context keeps its span (exported for the OpenTelemetry bridge). */
export const SPAN_CONTEXT_KEY = createContextKey('span')
const SPAN_KEY = SPAN_CONTEXT_KEY

/** The span stored in a context (the active span when `ctx` is the active context). */
export function spanFrom(ctx: Context): Span | undefined {
  return ctx.getValue(SPAN_KEY) as Span | undefined
}

/** The span context of the span stored in `ctx`, if valid. */
export function spanContextFrom(ctx: Context): SpanContext | undefined {
  const span = ctx.getValue(SPAN_KEY) as Span | undefined
  return span?.spanContext()
}

/** A context with `span` as its span. */
export function contextWithSpan(ctx: Context, span: Span): Context {
  return ctx.setValue(SPAN_KEY, span)
}

/** A context with no span (so the next span started in it is a root). */
export function contextWithoutSpan(ctx: Context): Context {
  return ctx.deleteValue(SPAN_KEY)
}

/**
 * A context whose parent is a remote span context (what propagators return after extracting
 * headers). Invalid ids leave the context unchanged, so a bad header starts a new trace.
 */
export function contextWithRemoteParent(ctx: Context, spanContext: SpanContext): Context {
  if (!isValidSpanContext(spanContext)) return ctx
  return ctx.setValue(SPAN_KEY, new NonRecordingSpan({ ...spanContext, isRemote: true }))
}

export function isValidSpanContext(sc: SpanContext | undefined): sc is SpanContext {
  return !!sc && isValidTraceId(sc.traceId) && isValidSpanId(sc.spanId)
}

/** The active span, if there is one. */
export function activeSpan(): Span | undefined {
  return spanFrom(activeContext())
}
